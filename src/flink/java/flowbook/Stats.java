package flowbook;

/**
 * Running statistics of one field, exactly as Flowbook's `stream/stats.rs` keeps them: the sum
 * in arrival order, min, max, and the variance from sums shifted by the first value. The same
 * operations in the same order give the same bits, so exported windows equal local ones.
 */
public class Stats {
    public long count;
    public double sum;
    public double min = Double.POSITIVE_INFINITY;
    public double max = Double.NEGATIVE_INFINITY;
    public double shift;
    public double shiftedSum;
    public double shiftedSquares;

    public Stats() {}

    public Stats copy() {
        Stats s = new Stats();
        s.count = count;
        s.sum = sum;
        s.min = min;
        s.max = max;
        s.shift = shift;
        s.shiftedSum = shiftedSum;
        s.shiftedSquares = shiftedSquares;
        return s;
    }

    /** Rust's f64::min/max: a NaN operand yields the other operand. */
    static double rustMin(double a, double b) {
        if (Double.isNaN(a)) return b;
        if (Double.isNaN(b)) return a;
        return a < b ? a : (b < a ? b : (a == 0 && b == 0 ? Math.min(a, b) : a));
    }

    static double rustMax(double a, double b) {
        if (Double.isNaN(a)) return b;
        if (Double.isNaN(b)) return a;
        return a > b ? a : (b > a ? b : (a == 0 && b == 0 ? Math.max(a, b) : a));
    }

    public void add(double x) {
        if (count == 0) {
            shift = x;
        }
        count += 1;
        sum += x;
        min = rustMin(min, x);
        max = rustMax(max, x);
        double d = x - shift;
        shiftedSum += d;
        shiftedSquares += d * d;
    }

    /** Combines two disjoint sets (merged sessions); the other's sums are re-centred. */
    public void merge(Stats other) {
        if (other.count == 0) return;
        if (count == 0) {
            count = other.count;
            sum = other.sum;
            min = other.min;
            max = other.max;
            shift = other.shift;
            shiftedSum = other.shiftedSum;
            shiftedSquares = other.shiftedSquares;
            return;
        }
        double n2 = (double) other.count;
        double delta = other.shift - shift;
        shiftedSquares += other.shiftedSquares + 2.0 * delta * other.shiftedSum + n2 * delta * delta;
        shiftedSum += other.shiftedSum + n2 * delta;
        count += other.count;
        sum += other.sum;
        min = rustMin(min, other.min);
        max = rustMax(max, other.max);
    }

    public double mean() {
        return sum / (double) count;
    }

    public double variance() {
        if (count == 0) return Double.NaN;
        double n = (double) count;
        return rustMax((shiftedSquares - shiftedSum * shiftedSum / n) / n, 0.0);
    }

    public double std() {
        return Math.sqrt(variance());
    }

    /** One of Flowbook's aggregate functions by name (count, sum, min, max, mean, variance, std). */
    public double of(String function) {
        switch (function) {
            case "count": return (double) count;
            case "sum": return sum;
            case "min": return min;
            case "max": return max;
            case "mean": return mean();
            case "variance": return variance();
            case "std": return std();
            default: throw new IllegalArgumentException("unknown aggregate function " + function);
        }
    }
}
