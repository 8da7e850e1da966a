"""The provider-neutral deploy engine: resource kinds registered in one place (`kind`), plans as data
(`model`, `planner`), the executor with its undo journal (`executor`) and safe interruption (`interrupt`).
See docs/development.md for how to add a resource kind."""
