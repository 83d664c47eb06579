"""Chinese text analysis for search: jieba segmentation with the union's own dictionary.

Why not ``jieba.analyse.ChineseAnalyzer``: it emits jieba's overlapping "search mode"
sub-words with *character offsets* as positions, so a quoted phrase never matches (whoosh
phrases need consecutive positions) and scattered words rank above the exact phrase.

Here a text is cut in jieba's precise mode (no HMM: the same word is cut the same way in a
document and in a query). A long word is also decomposed, once and cached, into the words
it is made of — 职工服务热线 → 职工 / 服务 / 热线, 总工会 → 总 / 工会 — and positions are
counted in those finest pieces ("leaves"): the whole word sits at the position of its first
leaf, each leaf at its own. So 工会 finds 总工会, a quoted phrase is a whoosh ``Phrase`` over
leaves, and it matches however the surrounding text was cut.

Cutting uses ``rjieba`` (jieba-rs, ~20× faster, same cuts) when installed and pure-Python
jieba otherwise. jieba's dictionary (≈ 2 s and 80 MB to load) is still needed for the
word frequencies that decide decompositions; it is loaded once per process, lazily, with its
cache file in a directory the app owns (``configure``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from math import log
from pathlib import Path
from typing import Any

from whoosh.analysis import Analyzer, Token

log_ = logging.getLogger(__name__)

USERDICT = Path(str(files("unionhub.search").joinpath("userdict.txt")))
#: Frequency given to a user-dictionary word that names none, so it survives its context.
USER_WORD_FREQ = 2000
#: Words longer than this are not decomposed (URLs, long digit runs).
MAX_DECOMPOSE = 16


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "unionhub"


@dataclass
class _Config:
    cache_dir: Path | None = None
    userdict: Path = USERDICT
    prefer_rjieba: bool = True


_config = _Config()
_lock = threading.Lock()
_segmenter: Segmenter | None = None


def configure(cache_dir: str | os.PathLike[str] | None = None,
              userdict: str | os.PathLike[str] | None = None,
              prefer_rjieba: bool = True) -> None:
    """Set where jieba keeps its cache file. Has no effect once the segmenter is loaded
    (one per process); the first app to configure it wins."""
    with _lock:
        if _segmenter is not None:
            return
        if cache_dir is not None:
            _config.cache_dir = Path(cache_dir)
        if userdict is not None:
            _config.userdict = Path(userdict)
        _config.prefer_rjieba = prefer_rjieba


def segmenter() -> Segmenter:
    """The process-wide segmenter, loaded on first use."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                _segmenter = Segmenter(_config.cache_dir or _default_cache_dir(),
                                       _config.userdict, _config.prefer_rjieba)
    return _segmenter


def warm_up() -> None:
    """Load the dictionaries now (call at worker start to spare the first query ~2 s)."""
    segmenter().leaves("职工服务热线")


def read_userdict(path: Path) -> list[tuple[str, int | None]]:
    """``word [freq] [tag]`` per line; ``#`` starts a comment."""
    out: list[tuple[str, int | None]] = []
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        freq = int(line[1]) if len(line) > 1 and line[1].isdigit() else None
        out.append((line[0], freq))
    return out


class Segmenter:
    """Cuts text into words and words into leaves; thread-safe after construction."""

    def __init__(self, cache_dir: Path, userdict: Path, prefer_rjieba: bool = True) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tk = jieba.Tokenizer()
        tk.tmp_dir = str(cache_dir)
        tk.cache_file = "jieba.cache"
        tk.initialize()
        self._jieba = tk
        self._rjieba: Any = None
        if prefer_rjieba:
            try:
                import rjieba
            except ImportError:
                log_.info("rjieba not installed: cutting with pure-Python jieba")
            else:
                self._rjieba = rjieba.Jieba()
        for word, freq in read_userdict(userdict):
            f = freq if freq is not None else max(USER_WORD_FREQ, tk.FREQ.get(word) or 0)
            tk.add_word(word, f)
            if self._rjieba is not None:
                self._rjieba.add_word(word, f, None)
        self._logtotal = log(tk.total)
        self.engine = "rjieba" if self._rjieba is not None else "jieba"
        self._cut: Callable[[str], list[str]] = (
            (lambda text: self._rjieba.cut(text, False)) if self._rjieba is not None
            else (lambda text: list(tk.cut(text, HMM=False))))
        self.leaves = lru_cache(maxsize=200_000)(self._leaves)
        self.tree = lru_cache(maxsize=200_000)(self._tree)

    def cut(self, text: str) -> list[str]:
        """jieba precise mode without HMM; whitespace and punctuation come back as pieces."""
        return self._cut(text)

    def _split(self, word: str) -> list[str]:
        """The most probable cut of ``word`` that is not ``word`` itself."""
        tk = self._jieba
        freq = tk.FREQ
        n = len(word)
        dag = tk.get_DAG(word)
        dag[0] = [j for j in dag[0] if j != n - 1] or [0]
        route: dict[int, tuple[float, int]] = {n: (0.0, 0)}
        for i in range(n - 1, -1, -1):
            route[i] = max((log(freq.get(word[i:j + 1]) or 1) - self._logtotal
                            + route[j + 1][0], j) for j in dag[i])
        parts, i = [], 0
        while i < n:
            j = route[i][1] + 1
            parts.append(word[i:j])
            i = j
        return parts

    def _leaves(self, word: str) -> tuple[str, ...]:
        """The finest dictionary pieces of ``word`` (itself when it is one piece)."""
        if len(word) <= 2 or len(word) > MAX_DECOMPOSE or not _is_cjk(word):
            return (word,)
        out: list[str] = []
        for part in self._split(word):
            out.extend(self.leaves(part))
        return tuple(out)

    def _tree(self, word: str) -> tuple[tuple[str, int], ...]:
        """``word``, its pieces and its leaves, each with the leaf offset it starts at."""
        if len(self.leaves(word)) == 1:
            return ((word, 0),)
        out: list[tuple[str, int]] = [(word, 0)]
        self._walk(word, 0, out)
        return tuple(out)

    def _walk(self, word: str, first: int, out: list[tuple[str, int]]) -> None:
        offset = first
        for part in self._split(word):
            out.append((part, offset))
            n = len(self.leaves(part))
            if n > 1:
                self._walk(part, offset, out)
            offset += n


def _is_cjk(word: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in word)


def words(text: str) -> list[tuple[str, int, int]]:
    """``(word, start, end)`` of ``text`` in order; whitespace and punctuation dropped
    (jieba returns those as pieces of their own; every word starts with a letter or digit).
    Latin letters are lower-cased."""
    out: list[tuple[str, int, int]] = []
    pos = 0
    for piece in segmenter().cut(text):
        end = pos + len(piece)
        if piece[0].isalnum():
            out.append((piece.lower() if piece.isascii() else piece, pos, end))
        pos = end
    return out


def leaves_of(text: str) -> list[str]:
    """The leaf sequence of ``text`` — what a quoted phrase is matched against."""
    seg = segmenter()
    out: list[str] = []
    for word, _start, _end in words(text):
        out.extend(seg.leaves(word))
    return out


class ChineseWordAnalyzer(Analyzer):
    """The analyzer of every text field. ``mode="index"`` emits each word, its pieces and
    its leaves (positions counted in leaves); any other mode emits leaves only, with
    character offsets — what highlighting needs. Holds no state, so it pickles into the
    index schema cheaply."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.boost, t.stopped = 1.0, False
        if not tokenize:
            t.original = t.text = value
            t.pos, t.startchar, t.endchar = start_pos, start_char, start_char + len(value)
            yield t
            return
        if mode == "index":
            yield from self._index_tokens(t, value, positions, keeporiginal, start_pos)
        else:
            yield from self._leaf_tokens(t, value, keeporiginal, start_pos, start_char)

    @staticmethod
    def _index_tokens(t: Token, value: str, positions: bool, keeporiginal: bool,
                      pos: int) -> Iterator[Token]:
        seg = segmenter()
        tree, leaves = seg.tree, seg.leaves
        for word, start, end in words(value):
            t.startchar, t.endchar = start, end
            for text, offset in tree(word):
                t.text = text
                if keeporiginal:
                    t.original = text
                t.pos = pos + offset
                yield t
            pos += len(leaves(word))

    @staticmethod
    def _leaf_tokens(t: Token, value: str, keeporiginal: bool, pos: int,
                     start_char: int) -> Iterator[Token]:
        leaves = segmenter().leaves
        for word, start, _end in words(value):
            char = start_char + start
            for leaf in leaves(word):
                t.text = leaf
                if keeporiginal:
                    t.original = leaf
                t.pos = pos
                t.startchar, t.endchar = char, char + len(leaf)
                yield t
                pos += 1
                char += len(leaf)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChineseWordAnalyzer)

    def __hash__(self) -> int:
        return hash(ChineseWordAnalyzer)
