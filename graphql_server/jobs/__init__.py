"""Long operations the server runs for its clients (backfill, append, recompute): the registry
that runs them and keeps them in the metadata database (so that a restart loses none), and the
``Job`` type, queries and subscription. The features start jobs and return ``Job``; this
package knows none of them."""
