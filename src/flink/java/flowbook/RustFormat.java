package flowbook;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Numbers printed exactly as Flowbook's CSV sink prints them (Rust's `Display` for f64): the
 * shortest decimal that reads back as the same double, in plain notation (no exponent), with no
 * ".0" on integers; NaN, inf and -inf. Java's Double.toString differs in all of these.
 */
public final class RustFormat {
    private RustFormat() {}

    public static String f64(double x) {
        if (Double.isNaN(x)) return "NaN";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        if (x == 0.0) return (Double.doubleToRawLongBits(x) < 0) ? "-0" : "0";
        if (x == Math.rint(x) && Math.abs(x) < 1e15) {
            return Long.toString((long) x);
        }
        double a = Math.abs(x);
        BigDecimal shortest = shortest(a);
        String text = shortest.stripTrailingZeros().toPlainString();
        return x < 0 ? "-" + text : text;
    }

    /** The shortest decimal in the rounding interval of a (positive, finite); the nearest of those. */
    static BigDecimal shortest(double a) {
        // Double.toString reads back exactly (though before Java 19 it is not always shortest).
        BigDecimal printed = new BigDecimal(Double.toString(a)).stripTrailingZeros();
        int p = printed.precision();
        if (p <= 15) {
            // At 15 digits or fewer, at most one decimal of each length reads back as a: the
            // printed one, unless a shorter one exists.
            BigDecimal best = printed;
            for (int q = p - 1; q >= 1; q--) {
                BigDecimal shorter = candidate(printed, a, q);
                if (shorter == null) break;
                best = shorter;
            }
            return best;
        }
        BigDecimal exact = new BigDecimal(a);
        while (p > 1 && candidate(exact, a, p - 1) != null) {
            p--;
        }
        BigDecimal best = candidate(exact, a, p);
        return best != null ? best : printed;
    }

    /** The p-digit decimal nearest to a that reads back as a, or null when none does. */
    private static BigDecimal candidate(BigDecimal exact, double a, int p) {
        BigDecimal down = exact.round(new MathContext(p, RoundingMode.DOWN));
        BigDecimal up = exact.round(new MathContext(p, RoundingMode.UP));
        boolean downOk = down.doubleValue() == a;
        boolean upOk = up.doubleValue() == a;
        if (downOk && upOk) {
            int c = exact.subtract(down).compareTo(up.subtract(exact));
            if (c < 0) return down;
            if (c > 0) return up;
            // A tie: the larger one, as Rust's shortest formatting rounds half up.
            return up;
        }
        if (downOk) return down;
        if (upOk) return up;
        return null;
    }
}
