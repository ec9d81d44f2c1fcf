"""``python -m graphmem.cli``: the ``graphmem`` command."""

from graphmem.cli.app import main

main()
