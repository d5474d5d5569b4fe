"""Optimal input of a cycle, in exact integers (Möbius composition, Wang et al., arXiv 2105.02784).

A constant-product hop is the Möbius map ``x -> g*s*x / (r*D + g*x)`` (``D = 1e6``, ``g = D - fee_pips``),
the 2x2 integer matrix ``[[g*s, 0], [g, r*D]]``. A cycle composes its hops by matrix products into
``x -> (A*x + B) / (C*x + D)`` (``B = 0`` for V2), and with the lender's premium ``p`` the profit
``F(x) - (1+p)*x`` is concave with its maximum where ``F'(x) = det / (C*x + D)**2 = 1 + p``:

    x* = (isqrt(det * den / (den + num)) - D) // C        (profitable iff x* > 0)

which for an all-V2 cycle without premium is the paper's ``(sqrt(K*M) - M) / N``. Everything is Python ints.

A V3 hop is the same map on the virtual reserves ``L*Q96/S`` and ``L*S/Q96`` inside one initialised-tick
range; across ranges it is piecewise: piece ``k`` starts at input ``U_k`` (the pool's own rounded amounts to
reach each initialised tick) with output ``Y_k`` and is the shifted Möbius map ``Y_k + m_k(u - U_k)``, again
an integer matrix. ``size_cycle`` walks the pieces of every hop together: compose the current pieces, take the
closed-form optimum; if it lies beyond the first input at which some hop leaves its piece (a prefix matrix
inverted at that hop's boundary), move there, advance that hop, and repeat. Concavity makes the first optimum
inside its interval the global one. A hop whose tick data ends (the lens window) caps the input there.

The closed form locates the optimum of the real-valued curve; the answer is then confirmed with the wei-exact
hop math (``uniswap_v2`` formula, ``uniswap_v3.quote_exact_input``) at ``x*`` and its neighbours, then trimmed
to the least input that buys the same exact output (each hop floors its output, so a coarse intermediate token
makes the exact profit a saw-tooth around the smooth curve), and the best exact profit wins. No floats anywhere
on this path.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from math import isqrt

from flasharb.math import MathError
from flasharb.math.uniswap_v3 import V3PoolState, quote_exact_input, quote_exact_output
from flasharb.math.uniswap_v3.tick_math import MAX_TICK, MIN_TICK, sqrt_ratio_at_tick_cached

__all__ = [
    "FEE_DENOMINATOR",
    "Piece",
    "V2Hop",
    "V3Hop",
    "Hop",
    "Estimate",
    "Sizing",
    "optimum",
    "confirm",
    "size_cycle",
    "cycle_output",
    "v2_amount_out",
]

FEE_DENOMINATOR = 1_000_000
Q96 = 1 << 96
_Q192 = 1 << 192
_NORMALISE_BITS = 2048  # projective matrices: shift all four entries when they grow past this
_KEEP_BITS = 1024


def v2_amount_out(amount_in: int, reserve_in: int, reserve_out: int, g: int) -> int:
    """``uniswap_v2.get_amount_out`` with the fee complement ``g = 1e6 - fee_pips`` (no argument checks)."""
    x = amount_in * g
    return x * reserve_out // (reserve_in * FEE_DENOMINATOR + x)


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of a hop's input->output curve: valid for inputs in ``[start, end]`` (``end`` None: no end);
    ``matrix`` (a, b, c, d) maps the hop's whole input ``u`` to ``(a*u + b) // (c*u + d)``; ``crossed`` counts
    the initialised ticks crossed before it; ``last`` marks the end of the hop's known liquidity."""

    start: int
    end: int | None
    matrix: tuple[int, int, int, int]
    crossed: int = 0
    last: bool = True


class V2Hop:
    """A V2 pair traded in one direction."""

    __slots__ = ("reserve_in", "reserve_out", "g", "_piece")
    kind = "v2"

    def __init__(self, reserve_in: int, reserve_out: int, fee_pips: int) -> None:
        self.reserve_in = reserve_in
        self.reserve_out = reserve_out
        self.g = FEE_DENOMINATOR - fee_pips
        g = self.g
        self._piece = Piece(0, None, (g * reserve_out, 0, g, reserve_in * FEE_DENOMINATOR))

    def piece(self, k: int) -> Piece | None:
        return self._piece if k == 0 else None

    def amount_out(self, amount_in: int) -> int:
        """Exact output; raises MathError if the pair cannot deliver (empty reserves)."""
        if self.reserve_in <= 0 or self.reserve_out <= 0:
            raise MathError("empty V2 reserves")
        x = amount_in * self.g
        return x * self.reserve_out // (self.reserve_in * FEE_DENOMINATOR + x)

    def amount_in_for(self, amount_out: int) -> int | None:
        """The least input whose exact output is at least ``amount_out`` (None if the pair cannot deliver it)."""
        if not 0 < amount_out < self.reserve_out:
            return None
        num = amount_out * self.reserve_in * FEE_DENOMINATOR
        return -(-num // (self.g * (self.reserve_out - amount_out)))

    @property
    def capacity(self) -> int | None:
        return None


class V3Hop:
    """A V3 pool traded in one direction; pieces are generated lazily by walking the initialised ticks."""

    __slots__ = ("state", "zero_for_one", "_pieces", "_walk")
    kind = "v3"

    def __init__(self, state: V3PoolState, zero_for_one: bool) -> None:
        self.state = state
        self.zero_for_one = zero_for_one
        self._pieces: list[Piece] = []
        self._walk = self._walker()

    def amount_out(self, amount_in: int) -> int:
        """Exact output (``quote_exact_input``); raises MathError if the pool cannot fill it in its window."""
        return quote_exact_input(self.state, self.zero_for_one, amount_in)

    def amount_in_for(self, amount_out: int) -> int | None:
        """The input the pool charges for ``amount_out`` (``quote_exact_output``), or None if it cannot."""
        try:
            return quote_exact_output(self.state, self.zero_for_one, amount_out)
        except MathError:
            return None

    def piece(self, k: int) -> Piece | None:
        pieces = self._pieces
        while len(pieces) <= k:
            nxt = next(self._walk, None)
            if nxt is None:
                return None
            pieces.append(nxt)
        return pieces[k]

    def pieces(self) -> list[Piece]:
        k = 0
        while self.piece(k) is not None:
            k += 1
        return list(self._pieces)

    def _walker(self):
        """Yields the pieces in swap order. The boundaries are the initialised ticks in the swap's direction,
        then the tick window's edge (the end of what the state knows)."""
        st = self.state
        zfo = self.zero_for_one
        fee = st.fee
        g = FEE_DENOMINATOR - fee
        S = st.sqrt_price_x96
        L = st.liquidity
        ticks = st.ticks
        nets = st.liquidity_net
        if zfo:
            i = bisect_right(ticks, st.tick) - 1
            bounds = [(ticks[j], True) for j in range(i, -1, -1)]
            bounds.append((max(st.tick_lower_bound, MIN_TICK), False))
        else:
            i = bisect_right(ticks, st.tick)
            bounds = [(ticks[j], True) for j in range(i, len(ticks))]
            bounds.append((min(st.tick_upper_bound, MAX_TICK), False))
        U = Y = 0
        crossed = 0
        pending: Piece | None = None
        for t, initialised in bounds:
            Sb = sqrt_ratio_at_tick_cached(t)
            if (Sb < S) if zfo else (Sb > S):
                if L > 0:
                    if zfo:
                        diff = S - Sb
                        net_in = -(-(L * Q96 * diff) // (S * Sb))
                        out = (L * diff) >> 96
                        alpha, beta = L * S * S * g, L * _Q192 * FEE_DENOMINATOR
                    else:
                        diff = Sb - S
                        net_in = -(-(L * diff) // Q96)
                        out = (L * Q96 * diff) // (Sb * S)
                        alpha, beta = L * _Q192 * g, L * S * S * FEE_DENOMINATOR
                    gamma = g * S * Q96
                    gross = net_in + -(-(net_in * fee) // g)
                    a = alpha + gamma * Y
                    matrix = (a, Y * beta - a * U, gamma, beta - gamma * U)
                    if pending is not None:
                        yield pending
                    pending = Piece(U, U + gross, matrix, crossed, False)
                    U += gross
                    Y += out
                S = Sb
            if initialised:
                L = L - nets[t] if zfo else L + nets[t]
                crossed += 1
                if L < 0:
                    break
        if pending is not None:
            yield Piece(pending.start, pending.end, pending.matrix, pending.crossed, True)

    @property
    def capacity(self) -> int | None:
        """The input that takes the price to the end of the known ticks (None before the walk is done)."""
        ps = self.pieces()
        return ps[-1].end if ps else 0


Hop = V2Hop | V3Hop


@dataclass(frozen=True, slots=True)
class Estimate:
    """The closed-form optimum of a cycle (before the exact check): input, the real-valued curve's output and
    profit after premium there, whether a cap binds, the optimum before the external cap, and the initialised
    V3 ticks crossed."""

    amount_in: int
    amount_out: int
    profit: int
    capped: bool
    unconstrained: int
    crossed: int


@dataclass(frozen=True, slots=True)
class Sizing:
    """The best exact input of a cycle under a cap: ``amount_out`` is the exact output, ``premium`` the
    lender's,
    ``profit = amount_out - amount_in - premium``. ``capped`` when the cap (lender, risk limit or a V3 hop's
    known ticks) binds; ``unconstrained`` is the closed-form optimum before the external cap; ``crossed`` the
    initialised V3 ticks crossed at the answer; ``estimate`` the closed-form profit."""

    amount_in: int
    amount_out: int
    premium: int
    profit: int
    capped: bool
    unconstrained: int
    crossed: int
    estimate: int


def cycle_output(hops: list, amount_in: int) -> int:
    """Exact output of the cycle; raises MathError if a hop cannot fill its input."""
    x = amount_in
    for h in hops:
        if x <= 0:
            return 0
        x = h.amount_out(x)
    return x


def _premium(amount: int, num: int, den: int, half_up: bool) -> int:
    if num == 0:
        return 0
    if half_up:
        return (amount * num + den // 2) // den
    return -(-(amount * num) // den)


def _normalise(A: int, B: int, C: int, D: int) -> tuple[int, int, int, int]:
    bits = max(abs(A).bit_length(), abs(B).bit_length(), abs(C).bit_length(), abs(D).bit_length())
    if bits <= _NORMALISE_BITS:
        return A, B, C, D
    s = bits - _KEEP_BITS
    return A >> s, B >> s, C >> s, D >> s


def optimum(
    hops: list,
    *,
    premium_num: int = 0,
    premium_den: int = 1,
    premium_half_up: bool = True,
    cap: int | None = None,
    max_pieces: int = 512,
) -> Estimate | None:
    """The closed-form optimal input in ``[1, cap]`` (None if the curve earns nothing after the premium)."""
    q_num, q_den = premium_den + premium_num, premium_den
    if all(type(h) is V2Hop for h in hops):
        # all-V2 fast path: every matrix is [[a, 0], [c, d]], so B stays 0 and A*D is the determinant
        A, C, D = 1, 0, 1
        for h in hops:
            a, _, c, d = h._piece.matrix
            A, C, D = a * A, c * A + d * C, d * D
        root = isqrt(A * D * q_den // q_num)
        x = (root - D) // C
        if x <= 0:
            return None
        unconstrained = x
        capped = cap is not None and x > cap
        if capped:
            x = cap  # type: ignore[assignment]
        out = A * x // (C * x + D)
        return Estimate(
            x, out, out - x - _premium(x, premium_num, premium_den, premium_half_up), capped, unconstrained, 0
        )

    n = len(hops)
    k = [0] * n
    pieces = [h.piece(0) for h in hops]
    if any(p is None for p in pieces):
        return None
    lo = 0
    capped = False
    x_opt = 0
    A = B = C = D = 0
    for _ in range(max_pieces):
        A, B, C, D = 1, 0, 0, 1
        x_next: int | None = None
        which = -1
        for i in range(n):
            p = pieces[i]
            if p.end is not None:
                den = A - C * p.end
                if den > 0:  # else the prefix never delivers this much: no boundary for this hop
                    xb = (D * p.end - B) // den
                    if x_next is None or xb < x_next:
                        x_next, which = xb, i
            a, b, c, d = p.matrix
            A, B, C, D = _normalise(a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D)
        det = A * D - B * C
        if det <= 0 or C <= 0:
            return None
        root = isqrt(det * q_den // q_num)
        xc = (root - D) // C
        if x_next is None or xc <= x_next:
            x_opt = max(xc, lo)
            break
        if pieces[which].last:
            x_opt, capped = x_next, True
            break
        k[which] += 1
        nxt = hops[which].piece(k[which])
        if nxt is None:
            x_opt, capped = x_next, True
            break
        pieces[which] = nxt
        lo = x_next
    else:
        return None
    if x_opt <= 0:
        return None
    unconstrained = x_opt
    if cap is not None and x_opt > cap:
        x_opt, capped = cap, True
        # the cap may sit in an earlier piece than the optimum: recompose the pieces that hold it
        A, B, C, D = _compose_at(hops, x_opt)
    crossed = sum(p.crossed for p in pieces) if not capped else _crossed_at(hops, x_opt)
    cx_d = C * x_opt + D
    out = (A * x_opt + B) // cx_d if cx_d > 0 else 0
    return Estimate(
        x_opt,
        out,
        out - x_opt - _premium(x_opt, premium_num, premium_den, premium_half_up),
        capped,
        unconstrained,
        crossed,
    )


def _piece_at(h, u: int) -> Piece | None:
    k = 0
    last = None
    while True:
        p = h.piece(k)
        if p is None:
            return last
        if p.end is None or u <= p.end:
            return p
        last = p
        k += 1


def _compose_at(hops: list, x: int) -> tuple[int, int, int, int]:
    """The composed matrix of the pieces the cycle uses at input ``x`` (hop inputs from the pieces)."""
    A, B, C, D = 1, 0, 0, 1
    u = x
    for h in hops:
        p = _piece_at(h, u)
        if p is None:
            return 0, 0, 1, 1
        a, b, c, d = p.matrix
        den = c * u + d
        u = (a * u + b) // den if den > 0 else 0
        A, B, C, D = _normalise(a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D)
    return A, B, C, D


def _crossed_at(hops: list, amount_in: int) -> int:
    """Initialised V3 ticks crossed by the cycle at ``amount_in`` (from the pieces: cheap, used for gas)."""
    total = 0
    u = amount_in
    for h in hops:
        p = _piece_at(h, u)
        if p is None:
            return total
        if type(h) is V3Hop:
            total += p.crossed
        a, b, c, d = p.matrix
        den = c * u + d
        u = (a * u + b) // den if den > 0 else 0
    return total


def confirm(
    hops: list,
    amount_in: int,
    *,
    premium_num: int = 0,
    premium_den: int = 1,
    premium_half_up: bool = True,
    capped: bool = False,
    neighbours: int = 2,
    estimate: Estimate | None = None,
) -> Sizing | None:
    """The best exact profit around ``amount_in`` with the wei-exact hop math: ``amount_in`` and one wei each
    side, then further wei by wei (up to ``neighbours``) on whichever side improves; only below ``amount_in``
    when ``capped``. None if nothing earns more than zero. If every candidate runs past a V3 hop's known
    ticks, backs off from that edge."""

    def exact(x: int) -> tuple[int, int, int] | None:
        if x < 1:
            return None
        try:
            out = cycle_output(hops, x)
        except MathError:
            return None
        return out - x - _premium(x, premium_num, premium_den, premium_half_up), x, out

    x0 = amount_in
    best = exact(x0)
    tries = 0
    while best is None and tries < 40:
        # the closed form sits on (or past) the edge of a V3 hop's known ticks: back off from that edge
        tries += 1
        x0 -= max(1, x0 >> (41 - tries))
        if x0 <= 0:
            return None
        best = exact(x0)
        capped = True
    if best is None:
        return None
    sides = (-1,) if capped else (-1, 1)
    for step in sides:
        for k in range(1, neighbours + 1):
            cand = exact(x0 + step * k)
            if cand is None or cand[0] <= best[0]:
                break
            best = cand
    # Trim: every hop's output is an integer, so the same final output can often be bought with less input
    # (an intermediate token with coarse units, e.g. USDC after WETH, makes the exact profit a saw-tooth a few
    # thousand wei wide). Walk back from the output, asking each hop for the least input that still delivers.
    need = best[2]
    for h in reversed(hops):
        need = h.amount_in_for(need)
        if need is None:
            break
    if need is not None and 0 < need < best[1]:
        cand = exact(need)
        if cand is not None and cand[0] > best[0]:
            best = cand
    if best is None or best[0] <= 0:
        return None
    profit, x, out = best
    est = estimate.profit if estimate is not None else profit
    unconstrained = estimate.unconstrained if estimate is not None else x
    crossed = estimate.crossed if estimate is not None and x == estimate.amount_in else _crossed_at(hops, x)
    return Sizing(x, out, out - x - profit, profit, capped, unconstrained, crossed, est)


def size_cycle(
    hops: list,
    *,
    premium_num: int = 0,
    premium_den: int = 1,
    premium_half_up: bool = True,
    cap: int | None = None,
    threshold: int | None = None,
    neighbours: int = 2,
) -> Sizing | None:
    """The input in ``[1, cap]`` maximising ``exact_output(x) - x - premium(x)``, or None when no input earns
    more than zero (or, with ``threshold``, when the closed form shows the profit cannot reach it): the closed
    form (:func:`optimum`), then the exact check (:func:`confirm`).

    ``hops`` are ``V2Hop``/``V3Hop`` in cycle order; the premium is ``num/den`` of the input (rounded half up
    or up, as the lender does).
    """
    est = optimum(
        hops, premium_num=premium_num, premium_den=premium_den, premium_half_up=premium_half_up, cap=cap
    )
    if est is None or (threshold is not None and not reaches(est, threshold)):
        return None
    return confirm(
        hops,
        est.amount_in,
        premium_num=premium_num,
        premium_den=premium_den,
        premium_half_up=premium_half_up,
        capped=est.capped,
        neighbours=neighbours,
        estimate=est,
    )


def reaches(est: Estimate, threshold: int) -> bool:
    """Whether the exact profit could reach ``threshold`` given the closed form: the real-valued curve is at
    or
    above the pools' rounded amounts but for a few wei per V3 piece boundary, so a generous relative slack
    (2**-20 of the input plus 1000 wei) keeps every cycle that could."""
    return est.profit + (est.amount_in >> 20) + 1_000 >= threshold
