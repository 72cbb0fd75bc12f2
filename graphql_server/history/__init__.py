"""Gathered bars (bucket ``market``): the series query, and the backfill and appendLatest jobs
that gather them as ``streamlines gather`` does."""
