"""Live streams out: frames of committed data pushed to WebSocket consumers.

`hub.Hub` fans frames out by key (a charger's id, a vehicle's VIN) to consumers, each with a
bounded buffer and its own sender; `tailer.Tailer` feeds a hub from rows committed to a table
(so every process and instance streams what any of them stored); `sessions.Sessions` holds the
open streams of each token and closes them when it is revoked or expires; `pump.pump` moves a
consumer's frames to its socket. The dialects' routes (Tellus `/v1/operator/stream`, the
Tesla dialect's vehicle stream) put them together.
"""
