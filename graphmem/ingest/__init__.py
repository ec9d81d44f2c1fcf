"""The write side: everything that turns documents, episodes and notes into stored graph.

- :mod:`~graphmem.ingest.pipeline`: the :class:`~graphmem.ingest.pipeline.Ingestor` (extract,
  build, embed, merge, run the batch hooks, one write per batch);
- :mod:`~graphmem.ingest.episodes`: episode ingest (time, speaker, session, ``NEXT`` chains);
- :mod:`~graphmem.ingest.sources`: documents and episodes read from files;
- :mod:`~graphmem.ingest.resolve`: ``SYNONYM`` edges between entities that embed alike;
- :mod:`~graphmem.ingest.temporal`: the batch hook applying the functional rule to facts;
- :mod:`~graphmem.ingest.hyperedges`: the batch hook building and merging memory units.

Import from the submodules; this package imports nothing, so importing one stays cheap.
"""
