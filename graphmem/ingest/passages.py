"""Documents to passages: one passage per chunk, with its provenance in the metadata.

>>> from graphmem.ingest.chunking import Chunker, ChunkSettings
>>> [p.text for p in to_passages(Document(text="Ada was born in London."), "ns", Chunker(ChunkSettings()))]
['Ada was born in London.']
"""

from __future__ import annotations

from graphmem.errors import InputError
from graphmem.extract.base import Extractor
from graphmem.ids import passage_id
from graphmem.ingest.chunking import Chunk, Chunker
from graphmem.models import Document, Passage
from graphmem.store.base import cache_prefix

#: passages longer than this are refused with a clear error (split documents before ingesting)
MAX_PASSAGE_CHARS = 1_000_000


def to_passage(
    doc: Document, namespace: str, position: int | None = None, chunk: Chunk | None = None
) -> Passage:
    """The passage of ``doc`` (or of one of its chunks); InputError when it is empty or too long."""
    text = chunk.text if chunk is not None else doc.text.strip()
    where = f"document {position}" if position is not None else "document"
    if doc.source:
        where += f" ({doc.source})"
    if not text:
        raise InputError(f"{where} has empty text", field="text")
    if len(text) > MAX_PASSAGE_CHARS:
        raise InputError(
            f"{where} is {len(text):,} characters, over the {MAX_PASSAGE_CHARS:,} limit: split it",
            field="text",
        )
    metadata = dict(doc.metadata)
    if doc.time is not None:
        metadata["time"] = doc.time.isoformat()
    if chunk is not None and chunk.split:
        metadata.update(
            document=doc.source, section=chunk.section, start=chunk.start, end=chunk.end
        )
    return Passage(
        id=passage_id(namespace, text),
        namespace=namespace,
        text=text,
        source=doc.source,
        title=doc.title,
        metadata=metadata,
    )


def to_passages(
    doc: Document, namespace: str, chunker: Chunker, position: int | None = None
) -> list[Passage]:
    """The passages of one document, in order (see :mod:`graphmem.ingest.chunking`)."""
    chunks = chunker.chunks(doc.text, doc.metadata, doc.title)
    if not chunks:
        where = f"document {position}" if position is not None else "document"
        if doc.source:
            where += f" ({doc.source})"
        what = "only headings" if doc.text.strip() else "empty text"
        raise InputError(f"{where} has {what}", field="text")
    out = [to_passage(doc, namespace, position, c) for c in chunks]
    if len(out) > 1:
        for i, p in enumerate(out):
            p.metadata["chunk"] = i
    return out


def extraction_key(extractor: Extractor, passage: Passage) -> str:
    """The extraction-cache key of ``passage``: its namespace first, then its id.

    A passage id hashes its namespace with its text, so a namespace only ever finds its own
    extractions (another's would reveal that it stored the same text), and a delete can purge a
    passage's rows by prefix (:func:`cache_prefix`).
    """
    return f"{cache_prefix(passage.namespace, passage.id)}{extractor.name}\x1f{extractor.version}"
