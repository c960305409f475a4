"""The GraphQL layer: types, thin resolvers, DataLoaders, error shaping."""
