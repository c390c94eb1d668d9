"""The panel manager's implementation; the public door is ``ff_managers.FFPanelSessionManager``.

Private: nothing outside ``ff_managers/`` imports this package (its own unit tests in
``tests/ff_managers/panel/`` excepted). The façade owns one instance of each class here (built by
``parts``) and makes one call into them per public method; every such call takes the caller's
``user_id`` first and checks it against the panel's owner before anything else. The modules are split by job:

* ``panels``        creating, reading, listing panels; routing a question (FFPanelCatalog)
* ``messages``      appending, paging through and turn status of messages (FFPanelMessages)
* ``deliberation``  insights, decisions, votes and their tallies (FFPanelDeliberation)
* ``state``         the panel's state document, a game's world or a task's plan (FFPanelStateDocument)
* ``closing``       closing a panel and its analytics (FFPanelClosing)
* ``parts``         the parts above wired together for the façade (FFPanelParts)
* ``owners``        the caller's ``user_id`` checked against a panel's owner, on every call (FFPanelOwners)
* ``store``         where a panel's files live, the owner index, the per-panel lock (FFPanelStore)
* ``reading``       stored lines to DTOs, skipping and counting bad ones; torn-tail repair (FFPanelRecordReader)
* ``writer``        numbering and group-committing messages under that lock, idempotent by id (FFPanelMessageWriter)
* ``message_index`` the in-memory id index that makes retried writes cheap to recognise (FFMessageIndex)
* ``events``        the payloads of the panel's events (ids and counts, never content)
* ``turns``         turn policies: who may post next (pure)
* ``rules``         which participants each panel type needs (pure)
* ``routing``       which expert a question goes to (pure)
* ``analytics``     tallies, consensus and per-participant figures (pure)
* ``checks``        every input rule (pure)
"""

from __future__ import annotations

__all__: list[str] = []
