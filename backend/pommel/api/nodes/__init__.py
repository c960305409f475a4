"""GraphQL object types, one module per area; cross-module references are lazy."""
