"""The three charts of the transform notebook.

Each returns its figure, closed so that the notebook shows it once, as the cell's result.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

MAIN_CURRENCIES = ("USD", "GBP", "CHF", "JPY")


def exchange_rate_chart(exchange_rates: pd.DataFrame, currencies=MAIN_CURRENCIES) -> plt.Figure:
    """How many units of each main currency one euro bought, on each ECB publication day."""
    figure, axes = plt.subplots(1, len(currencies), figsize=(12, 2.8), sharex=True)
    for ax, currency in zip(axes, currencies, strict=False):
        series = exchange_rates[exchange_rates["currency"] == currency].sort_values("rate_date")
        ax.plot(series["rate_date"], series["rate"], marker="o")
        ax.set_title(f"{currency} per EUR")
        if len(series) <= 10:  # a short run: one tick per publication day
            ax.set_xticks(series["rate_date"], [f"{d:%m-%d}" for d in series["rate_date"]])
        else:
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.yaxis.get_major_formatter().set_useOffset(False)
        ax.grid(alpha=0.3)
    figure.suptitle("ECB euro reference rates")
    figure.tight_layout()
    plt.close(figure)
    return figure


# Up to this many products, the price chart shows one bar per product; beyond, the distribution.
# Either way the figure (and the executed notebook holding it) has a bounded size and drawing time.
MAX_PRICE_BARS = 25
PRICE_BINS = 40


def price_chart(products_eur: pd.DataFrame, max_bars: int = MAX_PRICE_BARS) -> plt.Figure:
    """Prices in USD and in EUR on the last day of the run: each product's when there are at most
    max_bars of them, else the distribution of the day's prices (its number of products stated)."""
    last_day = products_eur["day"].max()
    day = products_eur[products_eur["day"] == last_day]
    title = f"Prices on {pd.Timestamp(last_day):%Y-%m-%d} (EUR at the ECB rate in force)"
    if len(day) > max_bars:
        return _price_distribution(day, title)
    day = day.sort_values("price_usd")
    labels = [f"{pid} · {name[:28]}" for pid, name in zip(day["product_id"], day["title"], strict=False)]
    positions = range(len(day))
    figure, ax = plt.subplots(figsize=(9, 0.45 * len(day) + 1.2))
    ax.barh([p + 0.2 for p in positions], day["price_usd"], height=0.4, label="USD")
    ax.barh([p - 0.2 for p in positions], day["price_eur"], height=0.4, label="EUR")
    ax.set_yticks(list(positions), labels)
    ax.set_xlabel("price")
    ax.set_title(title)
    ax.legend()
    figure.tight_layout()
    plt.close(figure)
    return figure


def _price_distribution(day: pd.DataFrame, title: str) -> plt.Figure:
    """Histograms of the day's USD and EUR prices on shared bins: PRICE_BINS bars, whatever the size."""
    usd = day["price_usd"].astype(float)
    eur = day["price_eur"].astype(float)
    top = max(usd.max(), eur.max())
    bins = [top * i / PRICE_BINS for i in range(PRICE_BINS + 1)]
    figure, ax = plt.subplots(figsize=(9, 3.5))
    ax.hist([usd, eur], bins=bins, label=["USD", "EUR"])
    ax.set_xlabel("price")
    ax.set_ylabel("products")
    ax.set_title(f"{title}\nall {len(day):,} products, {PRICE_BINS} price bands")
    ax.legend()
    figure.tight_layout()
    plt.close(figure)
    return figure


def top_products_chart(top_products: pd.DataFrame, max_days: int = 3) -> plt.Figure:
    """The top 5 of each of the last max_days days, by rating."""
    days = sorted(top_products["day"].unique())[-max_days:]
    figure, axes = plt.subplots(1, len(days), figsize=(5 * len(days), 3), squeeze=False)
    for ax, day in zip(axes[0], days, strict=False):
        top = top_products[top_products["day"] == day].sort_values("rank", ascending=False)
        labels = [
            f"#{r} · {pid} · {t[:22]}" for r, pid, t in zip(top["rank"], top["product_id"], top["title"], strict=False)
        ]
        ax.barh(labels, top["rating_rate"])
        ax.set_xlim(0, 5)
        ax.set_xlabel("rating (0-5)")
        ax.set_title(f"Top 5 on {pd.Timestamp(day):%Y-%m-%d}")
    figure.tight_layout()
    plt.close(figure)
    return figure
