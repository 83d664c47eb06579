"""A sample UnionHub plugin that lives outside the source tree, as a third party's would."""
