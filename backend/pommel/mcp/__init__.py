"""The MCP bridge: agents drive Pommel through the same named GraphQL operations as the API.

``operations`` loads ``schema/operations/mcp/*.graphql`` and derives each tool's and resource's
schemas from it (``inputs``, ``outputs``); ``arguments`` checks what an agent sends;
``executor`` runs an operation in-process or against a server; ``server`` serves them over MCP;
``notifications`` turns the event log into resource update notifications; ``stdio`` is
``pommel mcp``, ``http`` is ``/mcp`` on ``pommel serve``.
"""
