"""``graphmem mcp``: a Model Context Protocol server over :class:`graphmem.Memory`.

Agent hosts (IDE assistants, desktop chat clients, agent frameworks) start it with one line of
configuration and reach memory through tools (``add_memory``, ``search_memory``, ...) and
resources (``graphmem://entity/{id}``, ``graphmem://stats``). Needs the ``mcp`` extra::

    pip install 'graphmem[mcp]'
    graphmem mcp --store sqlite:///memory.db --namespace agent-1            # stdio
    graphmem mcp --transport http --port 8765 --keys keys.json              # streamable HTTP

Nothing here is imported by ``import graphmem``; :func:`graphmem.mcp.server.build_server` builds
the server, :func:`graphmem.mcp.server.run` runs it.
"""
