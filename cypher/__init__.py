"""The Cypher statements, one ``.cypher`` file each, one folder per dialect.

This folder sits at the repository's top and is installed as the package ``graphmem.cypher``
(``[tool.setuptools.package-dir]`` in pyproject.toml), so a wheel carries the statements;
``graphmem.store.cypher.queries`` loads them.
"""
