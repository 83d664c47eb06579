"""Full-text search: plugins contribute indexers (:mod:`.types`), changes go through one
queue and one writer (:mod:`.queue`), every query is filtered by the viewer's access tokens
(:mod:`.acl`). Whoosh with a jieba-based Chinese analyzer is the backend (:mod:`.backend`
is the interface). Kept import-free: plugins import :mod:`.types` at start-up."""
