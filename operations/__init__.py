"""The one registry of operations (DESIGN.md §9): each capability once, with its input model, HTTP call,
scope (core.scopes) and result model, for the CLI, the agent and the portals. Filled by the
operation-registry issue; the room exists so the layering and the layout test already hold for it."""
