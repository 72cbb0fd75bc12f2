"""Long operations the server runs for its clients (backfill, append, recompute): the registry
that runs them, and the ``Job`` type, queries and subscription. The features start jobs and
return ``Job``; this package knows none of them."""
