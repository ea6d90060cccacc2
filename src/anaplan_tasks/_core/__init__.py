"""The client's core: every decision the client makes, with no I/O.

Architecture (decided once for `Client` and `AsyncClient`):

* Each operation is a **flow**: a generator that yields *effects* and receives their results,
  like httpx's `Auth.auth_flow`. Effects are plain data (`flow.Send`, `flow.Sleep`,
  `flow.GetToken`, `flow.Offload`, `flow.Parallel`, `flow.Emit`).
* A **driver** runs a flow. `anaplan_tasks.client.Client` has a sync driver (a thread pool for
  `Parallel`), `AsyncClient` an async one (a bounded task group); each is a few lines. So retries,
  start reconciliation, polling, token decisions, upload planning and error mapping exist once,
  here.
* Nothing here opens sockets, sleeps or reads a clock: time, randomness and idempotency keys come
  in through `flow.Context`. The HTTP library is imported only by `anaplan_tasks._transport`.

Modules: `flow` (effects, requests, context), `endpoints` (URLs), `responses` (parsing and error
mapping), `retry` (the retry decision table, Retry-After, backoff, budget), `calls` (one API call
with auth and retries; paged lists), `auth` (credentials, tokens), `polling` (the wait schedule),
`tasks` (start with reconciliation, status, cancel, wait), `chunks` (chunk planning, gzip),
`files` (upload and download), `dumps` (failure dumps and their rows), `cloudworks` (the
CloudWorks API: its envelope, paging and errors, runs started and waited on like tasks).
"""

import logging

# Quiet by default: the library logs under "anaplan_tasks"; the application decides what to show.
logging.getLogger("anaplan_tasks").addHandler(logging.NullHandler())
