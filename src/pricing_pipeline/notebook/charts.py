"""The charts of the transform notebook, each small whatever the size of the catalogue.

Each returns its figure, closed so that the notebook shows it once, as the cell's result.
"""

from __future__ import annotations

from decimal import Decimal

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from pricing_pipeline.notebook.price_lists import MAJOR_CURRENCIES, by_rating, formatted

MAIN_CURRENCIES = ("USD", "GBP", "CHF", "JPY")


def exchange_rate_chart(exchange_rates: pd.DataFrame, currencies=MAIN_CURRENCIES) -> plt.Figure:
    """How many units of each main currency one euro bought, on each ECB publication day.

    Takes rates as parse_exchange_rates returns them (rate_date, currency, rate) and the currencies
    to draw; returns the figure, one panel per currency.
    """
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


def price_chart(products_eur: pd.DataFrame, max_products: int = 10) -> plt.Figure:
    """The price in USD and in EUR of the last day's best-rated products (at most max_products bars,
    so that a large catalogue stays readable).

    Takes marts.products_eur's rows for the run (run_frame: day, product_id, title, price_usd,
    price_eur, the ratings); returns the figure.
    """
    last_day = products_eur["day"].max()
    day = by_rating(products_eur[products_eur["day"] == last_day]).head(max_products).sort_values("price_usd")
    labels = [f"{pid} · {title[:28]}" for pid, title in zip(day["product_id"], day["title"], strict=False)]
    positions = range(len(day))
    figure, ax = plt.subplots(figsize=(9, 0.45 * len(day) + 1.2))
    ax.barh([p + 0.2 for p in positions], day["price_usd"], height=0.4, label="USD")
    ax.barh([p - 0.2 for p in positions], day["price_eur"], height=0.4, label="EUR")
    ax.set_yticks(list(positions), labels)
    ax.set_xlabel("price")
    shown = "" if len(day) == (products_eur["day"] == last_day).sum() else f", the {len(day)} best rated"
    ax.set_title(f"Prices on {pd.Timestamp(last_day):%Y-%m-%d}{shown} (EUR at the ECB rate in force)")
    ax.legend()
    figure.tight_layout()
    plt.close(figure)
    return figure


def top_products_chart(top_products: pd.DataFrame, max_days: int = 3) -> plt.Figure:
    """The top 5 of each of the last max_days days, by rating.

    Takes marts.top_products_daily's rows for the run (run_frame: day, rank, product_id, title,
    rating_rate); returns the figure, one panel per day.
    """
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


def currency_prices_chart(prices: pd.DataFrame, title: str, currencies=MAJOR_CURRENCIES) -> plt.Figure:
    """One product's price in a few major currencies over the run: one small panel per currency, the
    last price written out with its symbol and decimals.

    Takes that product's rows of price_lists.product_prices (day, currency, price), the figure's
    title and the currencies to draw; returns the figure.
    """
    figure, axes = plt.subplots(1, len(currencies), figsize=(12, 2.6), sharex=True)
    for ax, currency in zip(axes, currencies, strict=False):
        series = prices[prices["currency"] == currency].sort_values("day")
        ax.set_title(currency)
        ax.grid(alpha=0.3)
        if series.empty:  # not in the publications of the run
            ax.text(0.5, 0.5, "not published", ha="center", va="center", transform=ax.transAxes)
            continue
        values = [float(p) for p in series["price"]]  # for drawing only: the labels show the exact price
        ax.plot(series["day"], values, marker="o" if len(series) <= 10 else None)
        ax.margins(x=0.15, y=0.35)
        if len(series) <= 10:  # a short run: one tick per day, and one per price actually charged
            ax.set_xticks(series["day"], [f"{d:%m-%d}" for d in series["day"]])
            distinct = sorted(set(series["price"]))
            ax.set_yticks([float(p) for p in distinct], [formatted(p, currency) for p in distinct])
        else:  # a long run: a price scale, and the last price written out
            ax.annotate(
                formatted(series["price"].iloc[-1], currency),
                (series["day"].iloc[-1], values[-1]),
                textcoords="offset points",
                xytext=(0, 6),
                ha="right",
                fontsize=9,
            )
            ax.yaxis.set_major_formatter(
                plt.FuncFormatter(lambda v, _, c=currency: formatted(Decimal(str(float(v))), c))
            )
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    figure.suptitle(title)
    figure.tight_layout()
    plt.close(figure)
    return figure
