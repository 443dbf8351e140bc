"""What the XML writers (tmx, xliff) share: safe text and one way to serialise.

ElementTree, not lxml (lxml only validates the output in tests). `xml_safe` strips what XML 1.0
cannot carry (most C0 controls, lone surrogates, U+FFFE, U+FFFF), which ElementTree would write
raw; such a segment then cannot be matched by `tk import-review`. docs/design.md#writers
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
XML_NS = "http://www.w3.org/XML/1998/namespace"  # xml:lang, xml:space


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids."""
    return NOT_XML_CHAR.sub("", text)


def tool_version() -> str:
    """translate_kit's version, read at call time (golden tests pin it)."""
    import translate_kit

    return translate_kit.__version__


def serialize(root: ET.Element, doctype: str = "") -> str:
    """An indented UTF-8 document with an XML declaration (and a DOCTYPE line if given).

    Indentation only touches whitespace between elements, never the text inside <seg>,
    <source> or <target>, which hold text only."""
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + (doctype + "\n" if doctype else "")
    return head + body + "\n"


CHILDREN = "tk-children"  # stands for the streamed children while the frame is serialised


class Frame:
    """A document whose `container` gets its children one at a time (a huge document is never one
    tree): `head`, then `child(element)` for each, then `tail`. The text is the same as
    `serialize()` of the whole tree would give."""

    def __init__(self, root: ET.Element, container: ET.Element, doctype: str = ""):
        marker = ET.SubElement(container, CHILDREN)
        text = serialize(root, doctype)
        container.remove(marker)
        before, after = text.split(f"<{CHILDREN} />")
        self.head = before.rstrip(" ")  # ends with the line break before the first child
        self.indent = before[len(self.head):]
        self.tail = after[1:]  # after the line break that follows the last child

    def child(self, element: ET.Element) -> str:
        """One child of the container, indented as in the whole document, on its own lines."""
        ET.indent(element, space="  ", level=len(self.indent) // 2)
        return self.indent + ET.tostring(element, encoding="unicode") + "\n"
