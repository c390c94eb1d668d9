"""The panel manager's implementation; the public door is ``ff_managers.FFPanelSessionManager``.

Private: nothing outside ``ff_managers/`` imports this package (its own unit tests in
``tests/ff_managers/panel/`` excepted). The modules are split by job:

* ``store``      where a panel's files live, the owner index, the per-panel lock (FFPanelStore)
* ``writer``     numbering and group-committing messages under that lock (FFPanelMessageWriter)
* ``turns``      turn policies: who may post next (pure)
* ``rules``      which participants each panel type needs (pure)
* ``routing``    which expert a question goes to (pure)
* ``analytics``  tallies, consensus and per-participant figures (pure)
* ``checks``     every input rule (pure)
"""

from __future__ import annotations

__all__: list[str] = []
