package flowbook;

/**
 * Flowbook's seeded randomness (`stream/sources/rng.rs`) bit for bit: rand_chacha's ChaCha8Rng
 * seeded with rand_core's seed_from_u64 (PCG32 expansion), rand 0.9's uniform float and integer
 * sampling, Box-Muller normals and exponentials. Same seed, same stream as `flowbook run`.
 * (The normal and exponential draws go through ln and cos: Java's Math and the C library
 * Flowbook uses may round those differently in the last bit, rarely.)
 */
public final class SeededRng {
    private final int[] key = new int[8];
    private long counter;
    private final int[] block = new int[16];
    private int used = 16;

    public SeededRng(long seed) {
        long state = seed;
        for (int i = 0; i < 8; i++) {
            state = state * 6364136223846793005L + 0xA17654E46FBE17F3L; // PCG32: MUL, INC as rand_core
            int xorshifted = (int) (((state >>> 18) ^ state) >>> 27);
            int rot = (int) (state >>> 59);
            key[i] = Integer.rotateRight(xorshifted, rot);
        }
    }

    private void refill() {
        int[] x = new int[16];
        x[0] = 0x61707865; x[1] = 0x3320646e; x[2] = 0x79622d32; x[3] = 0x6b206574;
        System.arraycopy(key, 0, x, 4, 8);
        x[12] = (int) counter;
        x[13] = (int) (counter >>> 32);
        x[14] = 0;
        x[15] = 0;
        int[] s = x.clone();
        for (int round = 0; round < 4; round++) {
            quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15);
            quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14);
        }
        for (int i = 0; i < 16; i++) block[i] = s[i] + x[i];
        counter++;
        used = 0;
    }

    private static void quarter(int[] s, int a, int b, int c, int d) {
        s[a] += s[b]; s[d] = Integer.rotateLeft(s[d] ^ s[a], 16);
        s[c] += s[d]; s[b] = Integer.rotateLeft(s[b] ^ s[c], 12);
        s[a] += s[b]; s[d] = Integer.rotateLeft(s[d] ^ s[a], 8);
        s[c] += s[d]; s[b] = Integer.rotateLeft(s[b] ^ s[c], 7);
    }

    private long nextU32() {
        if (used == 16) refill();
        return block[used++] & 0xFFFFFFFFL;
    }

    public long nextU64() {
        long lo = nextU32();
        long hi = nextU32();
        return (hi << 32) | lo;
    }

    /** Uniform in [0, 1): the top 53 bits of a u64. */
    public double unit() {
        return (nextU64() >>> 11) * 0x1.0p-53;
    }

    private static long unsignedMultiplyHigh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }

    /** Uniform integer in [0, n) (n as unsigned), rand 0.9's single-sample method. */
    public long below(long n) {
        if (n == 0) return 0;
        long range = n;
        long v = nextU64();
        long result = unsignedMultiplyHigh(v, range);
        long lo = v * range;
        if (Long.compareUnsigned(lo, -range) > 0) {
            long newHi = unsignedMultiplyHigh(nextU64(), range);
            if (Long.compareUnsigned(lo + newHi, lo) < 0) {
                result += 1;
            }
        }
        return result;
    }

    /** Standard normal by Box-Muller. */
    public double normal() {
        double u1 = 1.0 - unit();
        double u2 = unit();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** Exponential with the given mean. */
    public double exponential(double mean) {
        return -mean * Math.log(1.0 - unit());
    }
}
