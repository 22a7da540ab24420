package org.align4j.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

import org.align4j.api.tokenizer.SpecialTokens;
import org.align4j.api.tokenizer.Tokenizer;

/**
 * A byte-level BPE tokenizer (GPT-2's scheme). Text is cut by {@link PreTokenizer}; each piece becomes its UTF-8
 * bytes, one byte token each, and the merges are applied by rank (the lowest-ranked adjacent pair first; of equal
 * pairs, the leftmost), exactly as Hugging Face's {@code BPE} model does. Special tokens are never produced from text
 * (merges that would spell one are refused when training and rejected when loading) and decode to nothing.
 *
 * <p>{@code decode(encode(s)).equals(s)} for every {@code s} that is valid UTF-16. A lone surrogate has no UTF-8 form
 * and is encoded as U+FFFD, so it comes back as U+FFFD. {@link #decode} of ids that cut a character in the middle
 * (e.g. a truncated generation) gives U+FFFD for the incomplete bytes.
 *
 * <p>Special tokens get their roles ({@link SpecialTokens}) from their contents: the first special token is always
 * end-of-text (as in every tokenizer.json align4j has written); the others take the role whose default content they
 * have ({@code <|bos|>}, {@code <|pad|>}, {@code <|system|>}, {@code <|user|>}, {@code <|assistant|>}, {@code <|end|>},
 * {@code <|step|>}); padding is end-of-text where there is no {@code <|pad|>}. Special tokens with other contents have
 * no role and are still found by {@link #specialTokenId}.
 *
 * <p>Immutable and safe for concurrent use; the per-piece cache is a bounded concurrent map.
 */
final class BpeTokenizer implements Tokenizer {

    static final String TYPE = "bpe";

    /** Pieces cached at most; past that new pieces are encoded each time (as Hugging Face's BPE cache does). */
    private static final int CACHE_CAPACITY = 1 << 16;

    private final String[] tokens;
    private final boolean[] special;
    private final int[] specialIds;
    private final int[][] merges;
    private final byte[][] bytes;
    private final int[] byteToId = new int[256];
    /** (left, right) to {@code rank << 32 | merged id}. */
    private final LongLongMap ranks;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private final Map<String, Integer> specialByContent = new HashMap<>();
    private final SpecialTokens roles;

    /**
     * @param tokens    the vocabulary by id: a byte-level string, or the content of a special token, or {@code null}
     *                  for an unused id; every byte's single-character token must be present
     * @param special   which ids are special tokens (same length as {@code tokens})
     * @param specialIds the special tokens in order; the first is end-of-text and padding
     * @param merges    {@code {left, right, merged}} ids by rank
     */
    BpeTokenizer(String[] tokens, boolean[] special, int[] specialIds, int[][] merges) {
        if (specialIds.length == 0) {
            throw new IllegalArgumentException("a tokenizer needs at least one special token (end-of-text)");
        }
        this.tokens = tokens.clone();
        this.special = special.clone();
        this.specialIds = specialIds.clone();
        this.merges = new int[merges.length][];
        this.bytes = new byte[tokens.length][];
        Arrays.fill(byteToId, -1);
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] == null) {
                continue;
            }
            if (special[id]) {
                bytes[id] = new byte[0];
                continue;
            }
            byte[] b = ByteLevel.decode(tokens[id]);
            if (b == null || b.length == 0) {
                throw new IllegalArgumentException("token " + id + " \"" + tokens[id] + "\" is not a byte-level token");
            }
            bytes[id] = b;
            if (b.length == 1) {
                byteToId[b[0] & 0xFF] = id;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (byteToId[b] < 0) {
                throw new IllegalArgumentException("no token for byte " + b);
            }
        }
        Map<String, Integer> roleIds = new LinkedHashMap<>();
        Map<String, String> roleContents = new LinkedHashMap<>();
        for (int id : specialIds) {
            if (id < 0 || id >= tokens.length || !special[id] || tokens[id] == null) {
                throw new IllegalArgumentException("special id " + id + " is not a special token");
            }
            specialByContent.putIfAbsent(tokens[id], id);
        }
        roleIds.put(SpecialTokens.EOS, specialIds[0]);
        roleContents.put(SpecialTokens.EOS, tokens[specialIds[0]]);
        for (Map.Entry<String, String> e : SpecialTokens.defaultContents().entrySet()) {
            Integer id = specialByContent.get(e.getValue());
            if (!e.getKey().equals(SpecialTokens.EOS) && id != null && id != specialIds[0]) {
                roleIds.put(e.getKey(), id);
                roleContents.put(e.getKey(), e.getValue());
            }
        }
        if (!roleIds.containsKey(SpecialTokens.PAD)) {
            roleIds.put(SpecialTokens.PAD, specialIds[0]);
            roleContents.put(SpecialTokens.PAD, tokens[specialIds[0]]);
        }
        roles = SpecialTokens.of(roleIds, roleContents);
        ranks = new LongLongMap(merges.length);
        for (int r = 0; r < merges.length; r++) {
            int[] m = merges[r];
            for (int id : m) {
                if (id < 0 || id >= tokens.length || tokens[id] == null || special[id]) {
                    throw new IllegalArgumentException("merge " + r + " refers to id " + id + ", not a byte-level token");
                }
            }
            this.merges[r] = m.clone();
            ranks.putIfAbsent(LongLongMap.pair(m[0], m[1]), ((long) r << 32) | m[2]);
        }
    }

    @Override
    public int[] encode(String text) {
        int[] out = new int[Math.max(16, text.length())];
        int n = 0;
        for (String piece : PreTokenizer.split(text)) {
            int[] ids = cache.get(piece);
            if (ids == null) {
                ids = bpe(ByteLevel.utf8(piece));
                if (cache.size() < CACHE_CAPACITY) {
                    cache.put(piece, ids);
                }
            }
            if (n + ids.length > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length));
            }
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
        }
        return Arrays.copyOf(out, n);
    }

    /** Applies the merges to the byte tokens of one piece: lowest rank first, leftmost first among equal ranks. */
    int[] bpe(byte[] piece) {
        int n = piece.length;
        int[] id = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = byteToId[piece[i] & 0xFF];
        }
        if (n < 2 || merges.length == 0) {
            return id;
        }
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] dead = new boolean[n];
        LongHeap queue = new LongHeap(n);
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            if (i + 1 < n) {
                offer(queue, id[i], id[i + 1], i);
            }
        }
        int alive = n;
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            int nx = next[pos];
            if (dead[pos] || nx < 0) {
                continue;
            }
            long v = ranks.get(LongLongMap.pair(id[pos], id[nx]), -1L);
            if (v < 0 || (int) (v >>> 32) != rank) {
                continue; // the pair at pos changed since this entry was queued
            }
            id[pos] = (int) v;
            dead[nx] = true;
            alive--;
            next[pos] = next[nx];
            if (next[nx] >= 0) {
                prev[next[nx]] = pos;
            }
            if (prev[pos] >= 0) {
                offer(queue, id[prev[pos]], id[pos], prev[pos]);
            }
            if (next[pos] >= 0) {
                offer(queue, id[pos], id[next[pos]], pos);
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i >= 0; i = next[i]) {
            out[k++] = id[i];
        }
        return out;
    }

    private void offer(LongHeap queue, int left, int right, int pos) {
        long v = ranks.get(LongLongMap.pair(left, right), -1L);
        if (v >= 0) {
            queue.add((v & 0xFFFFFFFF00000000L) | pos);
        }
    }

    @Override
    public String decode(int[] ids) {
        byte[] buf = new byte[Math.max(16, ids.length * 2)];
        int n = 0;
        for (int id : ids) {
            if (id < 0 || id >= tokens.length || tokens[id] == null) {
                throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (ids 0.."
                        + (tokens.length - 1) + ")");
            }
            byte[] b = bytes[id];
            if (n + b.length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + b.length));
            }
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public int eosId() {
        return specialIds[0];
    }

    @Override
    public int padId() {
        return roles.require(SpecialTokens.PAD);
    }

    @Override
    public SpecialTokens specialTokens() {
        return roles;
    }

    @Override
    public OptionalInt specialTokenId(String content) {
        Integer id = specialByContent.get(content);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public void save(Path file) throws IOException {
        TokenizerJson.write(this, file);
    }

    /** The vocabulary string of {@code id} ({@code null} for an unused id). */
    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    int[] specialIds() {
        return specialIds.clone();
    }

    int mergeCount() {
        return merges.length;
    }

    /** The merges by rank as pairs of vocabulary strings. */
    List<String[]> merges() {
        List<String[]> out = new ArrayList<>(merges.length);
        for (int[] m : merges) {
            out.add(new String[] {tokens[m[0]], tokens[m[1]]});
        }
        return out;
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) {
                    break;
                }
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long poll() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) {
                    break;
                }
                if (c + 1 < size && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
