"""A Redis tracker store that keeps only the current conversation session.

Rasa 3.6's `RedisTrackerStore` keeps every session of a conversation for as long as its key lives
(`RASA_TRACKER_TTL`, 7 days, renewed by every message) and, on every save, reads back the whole stored
history and merges the new tracker into it (`_merge_trackers`). A person who comes back over days or
weeks would pay on every turn for everything they ever wrote — Rasa's own work within one session
already grows with it (76 ms p50 for the first 50 turns, 383 ms for turns 350-400 of one session,
measured with the real model). The assistant needs only the current session: applications, handoff
transcripts and ratings live in the backend, and slots carry over into a new session
(`carry_over_slots_to_new_session`). So `save` writes the tracker it is given — the session `retrieve`
returned plus this turn — and nothing older (tests/rasa/test_e2e.py checks both halves).

Not merging loses nothing: each conversation is serialised by the Redis lock store, so two saves of one
conversation never race.
"""

from __future__ import annotations

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


class CurrentSessionRedisTrackerStore(RedisTrackerStore):
    # `timeout` is the key's expiry, Rasa's name for it.
    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self.stream_events(tracker)
        self.red.set(
            self.key_prefix + tracker.sender_id,
            self.serialise_tracker(tracker),
            ex=timeout or self.record_exp,
        )
