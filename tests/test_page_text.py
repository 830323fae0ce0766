"""What the page writes reads everywhere (issue 15's four-setting Chromium pass): no emoji that a browser without an
emoji font draws as an empty box, and the branch panel names quality numbers in words, not by their metric keys."""
import re
from pathlib import Path
from types import SimpleNamespace

from playground.branch_figures import quality_html

ROOT = Path(__file__).resolve().parents[1]

# Characters whose default presentation is an emoji (Unicode's Emoji_Presentation property, UTS #51): the page's
# fonts (DejaVu Sans in Debian's headless Chromium) have none of them, so each draws as an empty box there.
# Text signs the page uses instead (⚠ ◷ ▶ ❚ ✓ ✕ ↺ →) are in DejaVu Sans and in every desktop system font.
EMOJI_BMP = set([0x231A, 0x231B, *range(0x23E9, 0x23ED), 0x23F0, 0x23F3, 0x25FD, 0x25FE, 0x2614, 0x2615,
                 *range(0x2648, 0x2654), 0x267F, 0x2693, 0x26A1, 0x26AA, 0x26AB, 0x26BD, 0x26BE, 0x26C4, 0x26C5,
                 0x26CE, 0x26D4, 0x26EA, 0x26F2, 0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705, 0x270A, 0x270B, 0x2728,
                 0x274C, 0x274E, 0x2753, 0x2754, 0x2755, 0x2757, 0x2795, 0x2796, 0x2797, 0x27B0, 0x27BF, 0x2B1B,
                 0x2B1C, 0x2B50, 0x2B55])


def is_emoji(c: str) -> bool:
    return ord(c) in EMOJI_BMP or 0x1F000 <= ord(c) <= 0x1FAFF


def test_no_emoji_in_what_the_page_writes():
    files = sorted((ROOT / "playground").glob("*.py")) + [ROOT / "app.py"]
    found = [f"{f.relative_to(ROOT)}:{i}: {c!r}" for f in files
             for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) for c in line if is_emoji(c)]
    assert not found, found
    assert is_emoji("⏳") and is_emoji("🎓") and not is_emoji("⚠") and not is_emoji("◷")   # the rule itself


def run(step, **quality):
    return SimpleNamespace(quality=[{"kind": "mixture", "step": step, **quality}])


def test_branch_quality_rows_are_named_in_words():
    page = quality_html(run(500, modes=8, num_modes=8, high_quality=91.5, reverse_kl=0.02, mode_counts=[1, 2]),
                        run(520, modes=6, num_modes=8, high_quality=70.0, reverse_kl=0.4))
    names = re.findall(r"<tr[^>]*><td[^>]*>([^<]+)</td>", page)
    assert names == ["measured at step", "modes captured", "% high quality", "modes in the data",
                     "reverse KL (0 = modes even)"], names
    assert not re.search(r"high_quality|num_modes|reverse_kl", page)
    assert "91.5" in page and "0.4" in page
    odd = quality_html(run(1, some_new_metric=0.5), None)            # a key with no name reads without underscores
    assert "some new metric" in odd
