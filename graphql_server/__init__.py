"""The Strawberry GraphQL query path (queries, mutations, subscriptions).

The core (``app``, ``cli``, ``context``, ``scalars``, ``errors``, ``validation``, ``flux``,
``client``, and ``jobs/``) serves one folder per feature: ``ripples/``, ``history/``,
``indicators/``, ``corrections/``, each with the modules it needs of ``types``, ``queries``,
``mutations``, ``subscriptions`` and ``store``. A feature imports the core, never another
feature; ``schema`` merges the features' parts into the root types (``schema.graphql`` is the
SDL it prints).
"""
