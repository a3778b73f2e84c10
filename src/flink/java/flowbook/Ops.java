package flowbook;

/**
 * What Map and Filter expressions need beyond plain Java operators, with the semantics of
 * Flowbook's expression language (evalexpr): integer arithmetic that fails on overflow or
 * division by zero instead of wrapping, Rust's rounding and NaN-ignoring min/max, and strings
 * compared by code point. Arguments are evaluated before the call, as evalexpr does.
 */
public final class Ops {
    private Ops() {}

    public static long div(long a, long b) {
        if (b == 0) throw new ArithmeticException("division of " + a + " by zero");
        if (a == Long.MIN_VALUE && b == -1) throw new ArithmeticException("integer overflow in " + a + " / " + b);
        return a / b;
    }

    public static long rem(long a, long b) {
        if (b == 0) throw new ArithmeticException("modulo of " + a + " by zero");
        if (a == Long.MIN_VALUE && b == -1) throw new ArithmeticException("integer overflow in " + a + " % " + b);
        return a % b;
    }

    /** Rust's f64::round: halfway cases away from zero. */
    public static double round(double x) {
        double r = Math.rint(x);
        if (Math.abs(x - Math.floor(x)) == 0.5) {
            r = x + Math.copySign(0.5, x);
        }
        return r;
    }

    public static double pow(double a, double b) {
        if (b == 2.0) return a * a;
        if (b == 1.0) return a;
        return Math.pow(a, b);
    }

    /** evalexpr's min over integer and float arguments (NaN floats are ignored). */
    public static double min(long[] ints, double[] floats) {
        long minInt = Long.MAX_VALUE;
        for (long i : ints) minInt = Math.min(minInt, i);
        double minFloat = Double.POSITIVE_INFINITY;
        for (double f : floats) minFloat = Stats.rustMin(minFloat, f);
        return (double) minInt < minFloat ? (double) minInt : minFloat;
    }

    /** evalexpr's max over integer and float arguments (NaN floats are ignored). */
    public static double max(long[] ints, double[] floats) {
        long maxInt = Long.MIN_VALUE;
        for (long i : ints) maxInt = Math.max(maxInt, i);
        double maxFloat = Double.NEGATIVE_INFINITY;
        for (double f : floats) maxFloat = Stats.rustMax(maxFloat, f);
        return (double) maxInt > maxFloat ? (double) maxInt : maxFloat;
    }

    public static long minLong(long... xs) {
        long m = Long.MAX_VALUE;
        for (long x : xs) m = Math.min(m, x);
        return m;
    }

    public static long maxLong(long... xs) {
        long m = Long.MIN_VALUE;
        for (long x : xs) m = Math.max(m, x);
        return m;
    }

    /** evalexpr's if(c, a, b): both branches are evaluated before the choice. */
    public static double pick(boolean c, double a, double b) { return c ? a : b; }
    public static long pick(boolean c, long a, long b) { return c ? a : b; }
    public static boolean pick(boolean c, boolean a, boolean b) { return c ? a : b; }
    public static String pick(boolean c, String a, String b) { return c ? a : b; }

    /** Values of different types are never equal in evalexpr (1 == 1.0 is false). */
    public static boolean differentTypes(Object a, Object b) { return false; }

    /** Rust orders strings by their UTF-8 bytes, that is by code point. */
    public static int compare(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /** A record's fields widened to `width`, new fields NaN until assigned (Flowbook's Map). */
    public static double[] widen(double[] values, int width) {
        double[] v = java.util.Arrays.copyOf(values, width);
        for (int i = values.length; i < width; i++) v[i] = Double.NaN;
        return v;
    }
}
