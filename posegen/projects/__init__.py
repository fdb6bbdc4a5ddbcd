"""Projects (a user's workspaces with an avatar description) and image uploads."""
