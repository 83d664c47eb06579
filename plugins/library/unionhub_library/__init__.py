"""UnionHub library plugin (数字图书馆 + 数字博物馆)."""
