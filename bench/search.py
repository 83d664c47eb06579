"""Search benchmark: our Chinese analyzer against jieba's stock ``ChineseAnalyzer``.

Builds two whoosh indexes of the same N synthetic Chinese documents (default 20,000; a title
and a 300-character body each, generated with a fixed seed from a fixed vocabulary of
union-domain words and sentences) with the **same schema and writer settings**; only the
analyzer of the text fields differs:

* **ours** — ``unionhub.search.analysis.ChineseWordAnalyzer`` through the real rebuild path
  (``WhooshBackend.rebuild``): jieba precise mode without HMM (cut by rjieba when installed),
  user dictionary, cached decompositions, positions counted in leaves;
* **stock** — ``jieba.analyse.analyzer.ChineseAnalyzer`` (search mode with HMM, character
  offsets as positions, stop and stem filters).

Some documents contain known phrases (职工服务热线, 互助服务卡, …) verbatim, others the
same words scattered. Reported:

1. indexing throughput (documents/s, commit included) of each and the ratio ours/stock
   (target ≥ 2×), plus index size;
2. query latency p50/p95 over a fixed list of 30 queries, each run ``--rounds`` times after
   a warm-up: ours through ``WhooshBackend.search`` — the real path with the permission
   filter, per-type facets and highlighted snippets — on one index opened once with a reused
   searcher (target p95 < 50 ms); stock through whoosh's ``QueryParser`` (AND of its
   overlapping sub-words, no filter, no highlighting) for reference;
3. the hit rate of quoted phrase queries: the share of documents that contain the phrase
   verbatim (ground truth: substring test) that each finds, and the share of its hits that
   really contain it.

Usage::

    python bench/search.py [--docs 20000] [--rounds 5] [--seed 20261128] [--keep DIR]

The indexes and jieba's cache go to a temporary directory (or ``--keep DIR``).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from unionhub.search import analysis  # noqa: E402
from unionhub.search.acl import PUBLIC  # noqa: E402
from unionhub.search.backend import SearchRequest  # noqa: E402
from unionhub.search.types import SearchDocument  # noqa: E402
from unionhub.search.whoosh_backend import WhooshBackend, make_schema, to_fields  # noqa: E402

DOC_TYPE = "bench.doc"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())

BODY_CHARS = 300

WORDS = _words(
    "工会 会员 职工 京卡 互助 保障 服务 热线 困难 帮扶 慰问 劳模 医疗 住院 报销 申请 审核 "
    "通知 活动 培训 就业 权益 维护 法律 援助 女职工 疗休养 节日 福利 普惠 商户 优惠 图书 阅读 "
    "北京市 朝阳区 海淀区 总工会 基层 组织 代办处 企业 单位 职代会 集体合同 工资 协商 安全 "
    "生产 技能 竞赛 先进 表彰 体检 子女 助学 金秋 送温暖 农民工 新就业形态 快递员 外卖 骑手 "
    "驿站 户外 劳动者 补贴 发放 审批 流程 材料 窗口 线上 线下 手机 小程序 公众号 政策 解读 "
    "调整 标准 范围 对象 条件 时间 地点 联系 电话 咨询 办理 领取 缴费 参保 续保 理赔 赔付 "
    "金额 比例 门诊 大病 重大疾病 意外伤害 筛查 健康 讲座 心理 疏导 婚恋 交友 文体 比赛 "
    "劳动 关系 争议 调解 仲裁 合同 工时 休假 加班 社保 公积金 养老 失业 工伤 生育 托管 "
    "托育 课堂 暑期 冬季 夏季 防暑 降温 慰问品 电影 观影 运动会 健步走 摄影 书法 合唱 "
    "读书会 征文 演讲 志愿者 服务队 社区 街道 园区 楼宇 商圈 联合会 分会 小组 会员证 "
    "信息 变更 转会 接收 入会 退会 认证 实名 绑定 解绑 挂失 补办 激活 充值 积分 兑换 "
    "商品 超市 餐饮 酒店 景区 门票 折扣 满减 电子券 核销 评价 投诉 建议 反馈 回复 热点 "
    "问答 指南 手册 视频 直播 回放 报名 截止 名额 审核中 已通过 退回 补充 公示 结果"
)
FUNCTION_WORDS = _words("的 了 和 在 为 对 与 及 将 已 向 按 由 并")
LEADS = ("根据", "为进一步", "关于", "近日", "按照", "本周", "即日起", "经研究")
#: Share of a sentence's words taken from WORDS; the rest is ordinary Chinese.
DOMAIN_SHARE = 0.3
GENERAL_WORDS = 20_000
PHRASES = ("职工服务热线", "互助服务卡", "二次报销", "职工之家", "工会会员", "困难职工",
           "互助保障", "京卡互助服务卡", "住院互助", "职工互助保障")
QUERIES = (
    "工会", "京卡", "会员", "职工", "报销", "医疗", "培训", "疗休养", "女职工", "劳模",
    "12351", "互助保障", "二次报销", "职工服务热线", "京卡 挂失", "困难职工 帮扶",
    "工会 会员 服务", "住院 报销 材料", "北京市总工会", "朝阳区 工会", "外卖 骑手 驿站",
    "金秋 助学", "集体合同 协商", "技能 竞赛 表彰", "心理 疏导", "大病 筛查",
    "节日 慰问 发放", "小程序 办理", "送温暖", "新就业形态 劳动者",
)
PHRASE_QUERIES = PHRASES


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    body: str


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def general_vocabulary() -> tuple[list[str], list[int]]:
    """The GENERAL_WORDS most frequent two- to four-character Chinese words of jieba's
    dictionary (a file the jieba package ships), with their frequencies."""
    import jieba

    path = Path(jieba.__file__).with_name("dict.txt")
    rows: list[tuple[int, str]] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            word, freq, *_ = line.split()
            if 2 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                rows.append((int(freq), word))
    rows.sort(reverse=True)
    top = rows[:GENERAL_WORDS]
    return [w for _f, w in top], [f for f, _w in top]


def make_corpus(n: int, seed: int) -> list[Doc]:
    """Deterministic documents; ~3 % hold a known phrase verbatim, ~3 % its words apart.
    Domain words follow a Zipf-like law (工会 in about half the documents, the tail in
    few), so the queries range from common to rare words."""
    rng = random.Random(seed)
    seg = analysis.segmenter()

    # Zipf-like frequencies for the domain words, and ordinary Chinese around them: the
    # most frequent words of jieba's dictionary with their dictionary frequencies.
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(WORDS))]
    general, general_w = general_vocabulary()

    def sentence() -> str:
        n = rng.randint(5, 9)
        domain = rng.choices(WORDS, weights, k=max(1, round(n * DOMAIN_SHARE)))
        words = rng.choices(general, general_w, k=n - len(domain))
        for w in domain:
            words.insert(rng.randint(0, len(words)), w)
        if rng.random() < 0.5:
            words.insert(rng.randint(1, len(words) - 1), rng.choice(FUNCTION_WORDS))
        return rng.choice(LEADS) + "".join(words) + rng.choice("，。；")

    docs: list[Doc] = []
    for i in range(n):
        parts = [sentence() for _ in range(12)]
        roll = rng.random()
        phrase = rng.choice(PHRASES)
        if roll < 0.03:
            parts.insert(rng.randint(0, 4), f"请拨打或联系{phrase}了解详情。")
        elif roll < 0.06:
            pieces = seg.leaves(phrase)
            for k, piece in enumerate(pieces):
                parts.insert(1 + 3 * k, f"关于{piece}的说明。")
        body = "".join(parts)[:BODY_CHARS]
        title = (rng.choice(LEADS) + "".join(rng.choices(WORDS, weights, k=3))
                 + rng.choice(("通知", "公告", "指南", "说明")))
        docs.append(Doc(str(i), title, body))
    return docs


def documents(corpus: Sequence[Doc]) -> Iterator[SearchDocument]:
    for d in corpus:
        yield SearchDocument(d.doc_id, d.title, f"/bench/{d.doc_id}", (PUBLIC,), body=d.body)


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build_interleaved(work: Path, corpus: Sequence[Doc], limitmb: int
                      ) -> tuple[WhooshBackend, float, float]:
    """Both indexes in one process, one document at a time: the stock writer gets each
    document just before ours does, so load on a shared machine hits both alike. Ours is
    the app's own rebuild path (``WhooshBackend.rebuild``); its time is the rebuild's wall
    time minus the stock writer's share. Returns (backend, ours s, stock s)."""
    from jieba.analyse.analyzer import ChineseAnalyzer
    from whoosh import index

    (work / "stock1").mkdir(parents=True)
    stock_ix = index.create_in(str(work / "stock1"), make_schema(ChineseAnalyzer()))
    stock_w = stock_ix.writer(limitmb=limitmb)
    stock_s = 0.0

    def feed() -> Iterator[SearchDocument]:
        nonlocal stock_s
        for doc in documents(corpus):
            t = time.perf_counter()
            stock_w.add_document(**to_fields(DOC_TYPE, doc))
            stock_s += time.perf_counter() - t
            yield doc

    backend = WhooshBackend(work / "ours1", limitmb=limitmb, rebuild_procs=1)
    t0 = time.perf_counter()
    with backend.exclusive(10):
        backend.rebuild([(DOC_TYPE, feed())])
    ours_s = time.perf_counter() - t0 - stock_s
    t = time.perf_counter()
    stock_w.commit()
    stock_s += time.perf_counter() - t
    stock_ix.close()
    return backend, ours_s, stock_s


def build_ours(root: Path, corpus: Sequence[Doc], limitmb: int,
               procs: int) -> tuple[WhooshBackend, float]:
    """The app's own rebuild path (``WhooshBackend.rebuild``)."""
    backend = WhooshBackend(root, limitmb=limitmb, rebuild_procs=procs)
    t0 = time.perf_counter()
    with backend.exclusive(10):
        backend.rebuild([(DOC_TYPE, documents(corpus))])
    return backend, time.perf_counter() - t0


def build_stock(path: Path, corpus: Sequence[Doc], limitmb: int, procs: int) -> float:
    """The same schema, fields and writer settings with the stock analyzer."""
    from jieba.analyse.analyzer import ChineseAnalyzer
    from whoosh import index

    path.mkdir(parents=True)
    ix = index.create_in(str(path), make_schema(ChineseAnalyzer()))
    t0 = time.perf_counter()
    parallel = {"procs": procs, "multisegment": True} if procs > 1 else {}
    w = ix.writer(limitmb=limitmb, **parallel)
    for doc in documents(corpus):
        w.add_document(**to_fields(DOC_TYPE, doc))
    w.commit()
    ix.close()
    return time.perf_counter() - t0


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(run: Callable[[str], object], queries: Sequence[str], rounds: int) -> list[float]:
    for q in queries:  # warm-up: caches, mmaps, the first-query cost
        run(q)
    out: list[float] = []
    for _ in range(rounds):
        for q in queries:
            t0 = time.perf_counter()
            run(q)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def request(text: str, per_page: int = 10, page: int = 1) -> SearchRequest:
    return SearchRequest(text=text, tokens=frozenset({PUBLIC}),
                         visible={DOC_TYPE: ("published",)}, now=datetime.now(UTC),
                         page=page, per_page=per_page)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seed", type=int, default=20261128)
    p.add_argument("--limitmb", type=int, default=128, help="writer memory, both indexes")
    p.add_argument("--procs", type=int, default=min(2, os.cpu_count() or 1),
                   help="also build both indexes with this many writer processes")
    p.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    args = p.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="uh_bench_search_"))
    work.mkdir(parents=True, exist_ok=True)
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.tmp_dir = str(work)  # the stock analyzer's cache, not a shared /tmp file
    analysis.configure(cache_dir=work / "jieba")
    t0 = time.perf_counter()
    analysis.warm_up()
    jieba.initialize()
    init_s = time.perf_counter() - t0

    say(f"generating {args.docs:,} documents (seed {args.seed}) …")
    corpus = make_corpus(args.docs, args.seed)
    builds: dict[tuple[str, int], float] = {}
    say("indexing with both analyzers, interleaved, one process …")
    backend, builds[("ours", 1)], builds[("stock", 1)] = build_interleaved(
        work, corpus, args.limitmb)
    if args.procs > 1:
        say(f"indexing with ours, then the stock analyzer, {args.procs} processes each …")
        backend, builds[("ours", args.procs)] = build_ours(
            work / f"ours{args.procs}", corpus, args.limitmb, args.procs)
        builds[("stock", args.procs)] = build_stock(
            work / f"stock{args.procs}", corpus, args.limitmb, args.procs)
    root = work / f"ours{args.procs}"

    say("querying …")
    cold_ms = []
    for q in QUERIES:  # a fresh backend each time: open the index, empty caches
        fresh = WhooshBackend(root)
        t0 = time.perf_counter()
        fresh.search(request(q))
        cold_ms.append((time.perf_counter() - t0) * 1000)
        fresh.close()
    backend = WhooshBackend(root)
    ours_ms = timed(lambda q: backend.search(request(q)), QUERIES, args.rounds)
    from whoosh import index
    from whoosh.qparser import MultifieldParser

    stock_ix = index.open_dir(str(work / f"stock{args.procs}"))
    parser = MultifieldParser(["title", "body"], stock_ix.schema)
    stock_searcher = stock_ix.searcher()
    stock_ms = timed(lambda q: list(stock_searcher.search(parser.parse(q), limit=10)),
                     QUERIES, args.rounds)

    rows = []
    for phrase in PHRASE_QUERIES:
        truth = {d.doc_id for d in corpus if phrase in d.body or phrase in d.title}
        total = backend.search(request(f'"{phrase}"')).total
        ours = _all_ids(backend, f'"{phrase}"', total)
        stock_hits = stock_searcher.search(parser.parse(f'"{phrase}"'), limit=None)
        stock = {h["doc_id"] for h in stock_hits}
        rows.append((phrase, len(truth), ours, stock, truth))

    sizes = {"ours": dir_size(root / str(backend.current_generation())),
             "stock": dir_size(work / f"stock{args.procs}")}
    report(args, init_s, builds, sizes, cold_ms, ours_ms, stock_ms, rows, backend)
    stock_searcher.close()
    backend.close()
    if args.keep is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


def _all_ids(backend: WhooshBackend, q: str, total: int) -> set[str]:
    ids: set[str] = set()
    for page in range(1, -(-total // 100) + 1):
        ids.update(h.doc_id for h in backend.search(request(q, per_page=100, page=page)).hits)
    return ids


def report(args: argparse.Namespace, init_s: float, builds: dict[tuple[str, int], float],
           sizes: dict[str, int], cold_ms: list[float], ours_ms: list[float],
           stock_ms: list[float], rows: list[tuple[str, int, set[str], set[str], set[str]]],
           backend: WhooshBackend) -> None:
    n = args.docs
    engine = analysis.segmenter().engine
    print()
    print(f"Search benchmark — {date.today().isoformat()}")
    print(f"  python   {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs; segmenter: {engine}; dictionaries loaded in {init_s:.1f} s")
    print(f"  corpus   {n:,} documents, title + {BODY_CHARS}-character body, seed {args.seed}")
    print()
    print("Indexing (same schema, fields and writer settings; only the analyzer differs;")
    print("  1 process: interleaved document by document; more processes: one after the other)")
    print(f"  {'processes':>9} {'stock docs/s':>13} {'ours docs/s':>12} {'ours/stock':>11}")
    for procs in sorted({1, args.procs}):
        st, ou = builds[("stock", procs)], builds[("ours", procs)]
        print(f"  {procs:9d} {n / st:13.0f} {n / ou:12.0f} {st / ou:10.2f}x")
    best = args.procs
    print(f"  ours as the app rebuilds ({best} processes) vs stock in one process: "
          f"{builds[('stock', 1)] / builds[('ours', best)]:.2f}x   (target >= 2x)")
    print(f"  index size: ours {sizes['ours'] / 2**20:.1f} MB, "
          f"stock {sizes['stock'] / 2**20:.1f} MB")
    print()
    print(f"Query latency ({len(QUERIES)} queries; warm: x {args.rounds} rounds after a warm-up)")
    for name, ms in (("ours cold", cold_ms), ("ours warm", ours_ms), ("stock warm", stock_ms)):
        print(f"  {name:10} p50 {statistics.median(ms):7.1f} ms   "
              f"p95 {percentile(ms, 95):7.1f} ms   max {max(ms):7.1f} ms")
    print("  ours = the app's search: permission filter, per-type facet counts, top-50 "
          "adjacency re-rank, highlighted snippets; cold = fresh backend (opens the index, "
          "empty caches); stock = whoosh QueryParser AND query, top 10, nothing else")
    print(f"  ours warm p95 target < 50 ms: "
          f"{'met' if percentile(ours_ms, 95) < 50 else 'MISSED'}")
    print()
    print("Quoted phrase queries (recall = share of verbatim documents found; "
          "precision = share of hits that are verbatim)")
    print(f"  {'phrase':14} {'verbatim':>8} {'ours rec':>9} {'ours prec':>9} "
          f"{'stock rec':>9}")
    tot_truth = tot_ours = tot_ours_ok = tot_stock_ok = 0
    for phrase, n_truth, ours, stock, truth in rows:
        ok = len(ours & truth)
        tot_truth += n_truth
        tot_ours += len(ours)
        tot_ours_ok += ok
        tot_stock_ok += len(stock & truth)
        print(f"  {phrase:14} {n_truth:8d} {ok / max(n_truth, 1):9.0%} "
              f"{ok / max(len(ours), 1):9.0%} {len(stock & truth) / max(n_truth, 1):9.0%}")
    print(f"  {'all':14} {tot_truth:8d} {tot_ours_ok / max(tot_truth, 1):9.0%} "
          f"{tot_ours_ok / max(tot_ours, 1):9.0%} {tot_stock_ok / max(tot_truth, 1):9.0%}")
    print(f"  index documents: {backend.doc_count():,}")


if __name__ == "__main__":
    raise SystemExit(main())
