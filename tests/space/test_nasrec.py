"""Published NASRec JSON: import, export, round trips, dead blocks of the six (method.md 2.5, 8)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from recnas.errors import ConfigError
from recnas.space import Architecture
from recnas.space import dead_blocks
from recnas.space import from_nasrec
from recnas.space import get_space
from recnas.space import load_architecture
from recnas.space import nasrec_space
from recnas.space import sample_arch
from recnas.space import sample_path
from recnas.space import save_architecture
from recnas.space import to_nasrec

# method.md 8: blocks that never reach the head
DEAD = {
    "criteo_kaggle_xlarge": (4, 5, 6),
    "avazu_kaggle_xlarge": (4, 5, 6),
    "kdd_kaggle_xlarge": (6,),
    "criteo_kaggle_autoctr": (6,),
    "avazu_kaggle_autoctr": (),
    "kdd_kaggle_autoctr": (),
}
LOSS = {
    "criteo_kaggle_autoctr": 0.4474,
    "criteo_kaggle_xlarge": 0.4511,
    "avazu_kaggle_autoctr": 0.3908,
    "avazu_kaggle_xlarge": 0.3923,
    "kdd_kaggle_autoctr": 0.1563,
    "kdd_kaggle_xlarge": 0.1570,
}


def _key(path: Path) -> str:
    return path.stem.removeprefix("ea_").removesuffix("_best_1shot")


def test_six_published_files_round_trip(nasrec_config_files: list[Path]) -> None:
    for path in nasrec_config_files:
        raw = json.loads(path.read_text())
        arch = load_architecture(path)
        space = nasrec_space(raw)
        space.validate_arch(arch)  # one dense and one sparse op per block, widths in the lists
        out = to_nasrec(arch, space.name, test_loss=raw["test_loss"])
        assert from_nasrec(out) == arch
        assert Architecture.from_json(arch.to_json()) == arch
        assert out["config"] == raw["config"] and out["use_layernorm"] == raw["use_layernorm"]
        assert round(out["test_loss"], 4) == LOSS[_key(path)]
        for mine, theirs in zip(out["micro"], raw["micro"]):
            assert mine == {**theirs, "active_nodes": sorted(theirs["active_nodes"])}
        for mine, theirs in zip(out["macro"], raw["macro"]):
            assert {k: sorted(v) for k, v in mine.items()} == {
                k: sorted(v) for k, v in theirs.items()
            }
        assert dead_blocks(arch) == DEAD[_key(path)], path.name


def test_criteo_full_block_1(shared_dir: Path) -> None:
    arch = load_architecture(
        shared_dir / "nasrec_configs/criteo/ea_criteo_kaggle_xlarge_best_1shot.json"
    )
    b = arch.blocks[0]
    assert (b.dense_op, b.sparse_op) == ("gating", "attention")
    assert (b.dense_left, b.dense_right, b.dense_width, b.sparse_width, b.d2s, b.fm) == (
        0,
        0,
        128,
        64,
        True,
        False,
    )
    assert arch.blocks[4].dense_idx == (0, 2, 3, 4)  # file order [4, 0, 3, 2]
    assert arch.layernorm is True


def test_avazu_small_block_5(shared_dir: Path) -> None:
    b = load_architecture(
        shared_dir / "nasrec_configs/avazu/ea_avazu_kaggle_autoctr_best_1shot.json"
    ).blocks[4]
    assert (b.dense_width, b.d2s, b.fm) == (128, True, True)  # the defect-5 test case


@pytest.mark.parametrize("space_name", ["small", "full"])
def test_random_round_trips(space_name: str) -> None:
    space = get_space(space_name)
    rng = random.Random(0)
    for _ in range(200):
        a = sample_arch(space, rng).with_layernorm(rng.random() < 0.5)
        assert from_nasrec(json.loads(json.dumps(to_nasrec(a, space_name)))) == a
    path = sample_path(space, rng, "any_path")  # several nodes per block survive too
    assert from_nasrec(to_nasrec(path, space_name)) == path


def _good() -> dict[str, Any]:
    return to_nasrec(sample_arch(get_space("full"), random.Random(5)), "full")


def test_node_table_order() -> None:
    d = _good()
    d["micro"][2]["active_nodes"] = [5, 3]  # xlarge: 3 = sum, 5 = linear-3d
    b = from_nasrec(d).blocks[2]
    assert (b.dense_op, b.sparse_op) == ("sum", "efc")
    d["config"] = "autoctr"
    for m in d["micro"]:
        m["active_nodes"] = [1, 2]  # autoctr: 1 = dot-product, 2 = linear-3d
    assert {(x.dense_op, x.sparse_op) for x in from_nasrec(d).blocks} == {("dot_product", "efc")}


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda d: d.update(config="xlarge-zeros"), ("'config'", "xlarge-zeros")),
        (lambda d: d["micro"][3].update(active_nodes=[0, 9]), ("micro[3].active_nodes", "9")),
        (lambda d: d["micro"][3].update(active_nodes=[0, 1]), ("micro[3].active_nodes", "sparse")),
        (lambda d: d["micro"][2].update(dense_in_dims=100), ("block 3", "dense_width", "100")),
        (lambda d: d["macro"][1].pop("dense_left_idx"), ("macro[1]", "block 2", "dense_left_idx")),
        (lambda d: d["macro"][1].update(dense_right_idx=[0, 1]), ("macro[1].dense_right_idx",)),
        (lambda d: d["macro"][2].update(sparse_idx=[0, 5]), ("block 3", "sparse_idx")),
        (lambda d: d.update(num_blocks=6), ("num_blocks = 6",)),
        (lambda d: d["macro"].pop(), ("equal length",)),
    ],
)
def test_import_errors_name_the_field(edit: Any, needles: tuple[str, ...]) -> None:
    d = copy.deepcopy(_good())
    edit(d)
    with pytest.raises(ConfigError) as e:
        from_nasrec(d, where="x.json")
    assert str(e.value).startswith("x.json")
    for n in needles:
        assert n in str(e.value)


def test_export_refuses_ops_missing_from_the_table() -> None:
    arch = sample_path(get_space("full"), random.Random(0), "full_path")
    with pytest.raises(ConfigError, match="block 1: op"):
        to_nasrec(arch, "small")


def test_load_architecture_both_formats(tmp_path: Path) -> None:
    a = sample_arch(get_space("small"), random.Random(1))
    mine = save_architecture(a, tmp_path / "a.json")
    theirs = tmp_path / "b.json"
    theirs.write_text(json.dumps(to_nasrec(a, "small")))
    assert load_architecture(mine) == load_architecture(theirs) == a
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "blocks": [\n  ,]\n}')
    with pytest.raises(ConfigError, match=r"bad.json: line 3"):
        load_architecture(bad)
    with pytest.raises(ConfigError, match="missing.json"):
        load_architecture(tmp_path / "missing.json")
    d = a.to_dict()
    d["blocks"][1]["dense_idx"] = [0, 4]
    bad.write_text(json.dumps(d))
    with pytest.raises(ConfigError, match=r"bad.json: block 2: dense_idx"):
        load_architecture(bad)
