"""UnionHub welfare mall plugin (福利云商平台)."""
