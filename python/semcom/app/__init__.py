"""The application layer: the ``semcom`` command-line tool (:mod:`.cli`), the sweep runner
(:mod:`.sweep`, :mod:`.link`), the figures (:mod:`.plots`) and the noiseless demo
(:mod:`.demo`). It alone may import every layer: the core, ``phy`` and the blocks."""
