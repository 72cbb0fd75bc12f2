"""Price-store operations the GraphQL server runs as jobs."""
