"""The Strawberry GraphQL query path (queries, mutations, subscriptions); built in issue 4."""
