"""Signals that let one domain tell others that something they depend on changed, without the
first importing the second (safety does not know that screening exists).

Receivers run inside the sender's transaction, so their writes and audit rows commit or roll back
with the change that caused them.
"""

from __future__ import annotations

from django.dispatch import Signal

# A fact about one client changed (a safety flag raised or closed...). kwargs: client, actor, reason
client_facts_changed = Signal()

# A practice-wide rule input changed (a signed-off parameter, the medication catalogue).
# kwargs: actor, reason
practice_rules_changed = Signal()
