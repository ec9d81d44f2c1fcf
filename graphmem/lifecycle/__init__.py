"""What a memory does after it stores something (issue 22): states you can see, strength and
forgetting, restoring.

- :mod:`~graphmem.lifecycle.states`: a node's state and history (``Memory.lifecycle``);
- :mod:`~graphmem.lifecycle.strength`: MemoryBank's forgetting curve over facts and episodes;
- :mod:`~graphmem.lifecycle.forget`: archive by strength or quota, restore (``Memory.forget``,
  ``Memory.restore``); nothing is deleted;
- :mod:`~graphmem.lifecycle.visible`: default search leaves archived nodes out.

The records themselves (events, states, recalls) are the store's
(:mod:`graphmem.store.states`); ``Memory``'s methods only delegate here.
"""
