"""Chart set-up shared by every report: a CJK font that ships with the package's dependencies.

Matplotlib's default fonts have no Chinese glyphs, so labels such as 保温杯 would render as
empty boxes. The Noto Sans CJK SC font comes inside the ``mplfonts`` wheel (installed from
PyPI like any dependency), so a fresh machine renders Chinese without system fonts.

Examples
--------
>>> name = use_chinese_font()
>>> name
'Noto Sans CJK SC'
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager

__all__ = ["use_chinese_font", "font_path", "CJK_FONT", "has_glyphs"]

CJK_FONT = "Noto Sans CJK SC"


def font_path() -> Path:
    """Return the path of the bundled Noto Sans CJK SC font file."""
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: reinstall the project (`make install`) to get mplfonts' fonts")
    return path


def use_chinese_font(style: str = "whitegrid") -> str:
    """Register the bundled CJK font and make it the default for matplotlib and seaborn.

    Parameters
    ----------
    style : str
        The seaborn style to apply.

    Returns
    -------
    str
        The font family now in use.
    """
    import seaborn as sns

    font_manager.fontManager.addfont(str(font_path()))
    sns.set_theme(style=style, font=CJK_FONT)
    plt.rcParams["font.sans-serif"] = [CJK_FONT, "DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["figure.dpi"] = 100
    plt.rcParams["savefig.dpi"] = 100
    return CJK_FONT


def has_glyphs(text: str, family: str = CJK_FONT) -> bool:
    """Tell whether ``family`` has a glyph for every character of ``text``."""
    from fontTools.ttLib import TTFont

    path = font_manager.findfont(family, fallback_to_default=False)
    cmap = TTFont(path, fontNumber=0).getBestCmap()
    return all(ord(ch) in cmap for ch in text if not ch.isspace())
