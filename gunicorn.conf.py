"""gunicorn settings for surveyapp (read automatically when gunicorn starts in this folder,
or pass ``-c gunicorn.conf.py``). Command-line flags override these.

Why threads: a citizen submit spends much of its time waiting, not computing — on
PostgreSQL for the commit's WAL flush (≈ 3 ms on the bench machine), on SQLite for the other
worker's write lock, and in every worker for the client to close the connection (gunicorn
≥ 23 lingers on each socket until the peer's FIN, RFC 9112 §9.6). A sync worker idles
through all of that; with a few threads per worker the other requests use the core
meanwhile, and concurrent PostgreSQL commits share one WAL flush. Python work still runs
one thread at a time per process, so a few threads are enough; more only add switching.

Durability is unchanged: a request is answered 303 only after its transaction committed, so
``kill -9`` of a worker loses the in-flight (unanswered) requests of all its threads and no
acknowledged one (``bench/submit.py`` checks this).
"""

from __future__ import annotations

workers = 2
threads = 4  # gunicorn uses its gthread worker when threads > 1
