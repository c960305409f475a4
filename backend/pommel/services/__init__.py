"""Services: the operations the API (GraphQL, MCP) calls. Business rules live here and in
``pommel.domain``; resolvers and tools only translate."""
