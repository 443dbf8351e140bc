"""translate_kit: local, offline bilingual translation and summaries of foreign-language articles.

Public API (heavy imports happen lazily, inside the calls):

    from translate_kit import load_documents, translate
    for result in translate(load_documents(["seeds/"]), "en"):
        ...
"""

from .documents import Document, load_documents
from .options import DecodeOptions, RunOptions
from .summarize import SummaryOptions, summarize
from .translate import DocResult, translate

__all__ = ["Document", "DecodeOptions", "DocResult", "RunOptions", "SummaryOptions", "load_documents", "summarize",
           "translate"]
__version__ = "0.1.0"
