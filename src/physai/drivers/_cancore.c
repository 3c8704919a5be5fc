/* physai.drivers._cancore: the CAN driver's per-tick codec work in C (no Python object per frame).
 *
 * The compiled twin of the numpy batch codecs (physai.drivers.batch_scaling, mit.encode_commands,
 * robstride.encode_motion_controls, mit.reply_fields, robstride.feedback_fields): the same float64
 * operations in the same order, so every byte and every decoded value equals the Python codecs' (tested
 * against them). Compiled with -ffp-contract=off: no fused multiply-add may change a rounding.
 *
 * Arrays are passed as writable/readable buffers (numpy arrays, C-contiguous) of the documented dtype;
 * the Python side (physai.drivers.can_bus) owns shapes and validation. A non-finite command value makes an
 * encoder return its index, and the caller re-runs the numpy path, which raises the named CodecError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static const double DECODE_SLACK_LSB = 1e-6;

/* float_to_uint after a finite check: clamp into [lo, hi], scale onto 0..2^bits-1, truncate; hi -> top. */
static inline uint32_t quantize(double x, double lo, double hi, int bits) {
    const uint32_t top = (uint32_t)((1ull << bits) - 1);
    double v = x < lo ? lo : x;
    v = v > hi ? hi : v;
    if (v >= hi) return top;
    double scaled = (v - lo) * (double)top / (hi - lo) + DECODE_SLACK_LSB;
    int64_t k = (int64_t)scaled;
    if (k < 0) k = 0;
    if ((uint64_t)k > top) k = top;
    return (uint32_t)k;
}

/* uint_to_float */
static inline double dequantize(uint32_t k, double lo, double hi, int bits) {
    const double top = (double)((1ull << bits) - 1);
    return (double)k * (hi - lo) / top + lo;
}

typedef struct {
    Py_buffer b;
    int held;
} Buf;

static int get(PyObject *obj, Buf *buf, int writable, Py_ssize_t min_bytes, const char *name) {
    buf->held = 0;
    if (PyObject_GetBuffer(obj, &buf->b, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0) return -1;
    buf->held = 1;
    if (buf->b.len < min_bytes) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes; expected at least %zd", name, buf->b.len, min_bytes);
        return -1;
    }
    return 0;
}

static void release(Buf *bufs, int n) {
    for (int i = 0; i < n; i++)
        if (bufs[i].held) PyBuffer_Release(&bufs[i].b);
}

/* Command field order: position, velocity, kp, kd, torque_ff (rows of a (5, n) float64 array). */
static const int MIT_BITS[5] = {16, 12, 12, 12, 12};
static const uint64_t MIT_SPECIAL[3] = {0xFFFFFFFFFFFFFFFCull, 0xFFFFFFFFFFFFFFFDull, 0xFFFFFFFFFFFFFFFEull};
static const int MIT_CHECK[5] = {0, 1, 2, 3, 4};
static const int RS_CHECK[5] = {4, 0, 1, 2, 3}; /* encode_motion_control checks torque first */

/* encode(protocol, values(5,n) f64, lo(5,n) f64, hi(5,n) f64, can_ids(n) u32, ids_out(n) u32,
 *        payload_out(n,8) u8, sent_out(5,n) f64) -> -1, or the flat index f*n+i of the first non-finite
 * value (motor i, then field in the protocol's check order). protocol 0 = MIT, 1 = Robstride type 1. */
static PyObject *encode(PyObject *self, PyObject *args) {
    int protocol;
    Py_ssize_t n;
    PyObject *o[7];
    if (!PyArg_ParseTuple(args, "inOOOOOOO", &protocol, &n, &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6]))
        return NULL;
    Buf b[7] = {{0}};
    const Py_ssize_t f64 = 5 * n * 8;
    if (get(o[0], &b[0], 0, f64, "values") || get(o[1], &b[1], 0, f64, "lo") || get(o[2], &b[2], 0, f64, "hi") ||
        get(o[3], &b[3], 0, n * 4, "can_ids") || get(o[4], &b[4], 1, n * 4, "ids_out") ||
        get(o[5], &b[5], 1, n * 8, "payload_out") || get(o[6], &b[6], 1, f64, "sent_out")) {
        release(b, 7);
        return NULL;
    }
    const double *val = b[0].b.buf, *lo = b[1].b.buf, *hi = b[2].b.buf;
    const uint32_t *can_ids = b[3].b.buf;
    uint32_t *ids = b[4].b.buf;
    uint8_t *out = b[5].b.buf;
    double *sent = b[6].b.buf;
    const int *check = protocol == 0 ? MIT_CHECK : RS_CHECK;
    Py_ssize_t bad = -1;
    for (Py_ssize_t i = 0; i < n && bad < 0; i++)
        for (int c = 0; c < 5; c++)
            if (!isfinite(val[check[c] * n + i])) {
                bad = check[c] * n + i;
                break;
            }
    if (bad < 0) {
        for (Py_ssize_t i = 0; i < n; i++) {
            uint32_t k[5];
            uint8_t *d = out + 8 * i;
            if (protocol == 0) {
                for (int f = 0; f < 5; f++) k[f] = quantize(val[f * n + i], lo[f * n + i], hi[f * n + i], MIT_BITS[f]);
                for (;;) { /* as encode_command: one position step down, never a mode change */
                    uint64_t w = ((uint64_t)k[0] << 48) | ((uint64_t)k[1] << 36) | ((uint64_t)k[2] << 24) |
                                 ((uint64_t)k[3] << 12) | (uint64_t)k[4];
                    if (w != MIT_SPECIAL[0] && w != MIT_SPECIAL[1] && w != MIT_SPECIAL[2]) {
                        for (int j = 0; j < 8; j++) d[j] = (uint8_t)(w >> (56 - 8 * j));
                        break;
                    }
                    k[0] -= 1;
                }
                ids[i] = can_ids[i];
                for (int f = 0; f < 5; f++) sent[f * n + i] = dequantize(k[f], lo[f * n + i], hi[f * n + i], MIT_BITS[f]);
            } else {
                for (int f = 0; f < 5; f++) k[f] = quantize(val[f * n + i], lo[f * n + i], hi[f * n + i], 16);
                for (int f = 0; f < 4; f++) {
                    d[2 * f] = (uint8_t)(k[f] >> 8);
                    d[2 * f + 1] = (uint8_t)(k[f] & 0xFF);
                }
                ids[i] = (1u << 24) | (k[4] << 8) | (can_ids[i] & 0xFF); /* type 1, data area 2 = torque */
                for (int f = 0; f < 5; f++) sent[f * n + i] = dequantize(k[f], lo[f * n + i], hi[f * n + i], 16);
            }
        }
    }
    release(b, 7);
    return PyLong_FromSsize_t(bad);
}

/* decode(m, ids(m) u32, extended(m) bool, dlc(m) u8, data(m,8) u8, bus(m) u8, n_buses,
 *        mit_joint(B,256) i64, rs_joint(B,256) i64, lo(n,3) f64, hi(n,3) f64, bits(n,3) i64, now_s,
 *        position(n), velocity(n), torque(n), temperature(n) f64, error(n) i64, last_rx(n) f64,
 *        fresh(n) bool, running(n) bool) -> (replies stored, decode errors)
 * MIT replies: standard id 0, byte 0 = motor id, 6 or 8 bytes. Robstride: type-2 feedback, motor id in id
 * bits 8..15, 8 bytes, mode bits != 3. Later replies of a motor overwrite earlier ones. */
static PyObject *decode(PyObject *self, PyObject *args) {
    Py_ssize_t m, n_buses;
    double now;
    PyObject *o[18];
    if (!PyArg_ParseTuple(args, "nOOOOOnOOOOOdOOOOOOOO", &m, &o[0], &o[1], &o[2], &o[3], &o[4], &n_buses, &o[5],
                          &o[6], &o[7], &o[8], &o[9], &now, &o[10], &o[11], &o[12], &o[13], &o[14], &o[15], &o[16],
                          &o[17]))
        return NULL;
    Buf b[18] = {{0}};
    const char *names[18] = {"ids", "extended", "dlc", "data", "bus", "mit_joint", "rs_joint", "lo", "hi", "bits",
                             "position", "velocity", "torque", "temperature", "error", "last_rx", "fresh", "running"};
    Py_ssize_t sizes[18] = {m * 4, m, m, m * 8, m, n_buses * 256 * 8, n_buses * 256 * 8, 0, 0, 0,
                            0, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 0; k < 18; k++)
        if (get(o[k], &b[k], k >= 10, sizes[k], names[k])) {
            release(b, 18);
            return NULL;
        }
    Py_ssize_t n = b[10].b.len / 8;
    if (b[7].b.len < n * 24 || b[8].b.len < n * 24 || b[9].b.len < n * 24 || b[11].b.len < n * 8 ||
        b[12].b.len < n * 8 || b[13].b.len < n * 8 || b[14].b.len < n * 8 || b[15].b.len < n * 8 ||
        b[16].b.len < n || b[17].b.len < n) {
        release(b, 18);
        PyErr_SetString(PyExc_ValueError, "decode: per-joint arrays shorter than position");
        return NULL;
    }
    const uint32_t *ids = b[0].b.buf;
    const uint8_t *ext = b[1].b.buf, *dlc = b[2].b.buf, *data = b[3].b.buf, *bus = b[4].b.buf;
    const int64_t *mit_joint = b[5].b.buf, *rs_joint = b[6].b.buf, *bits = b[9].b.buf;
    const double *lo = b[7].b.buf, *hi = b[8].b.buf;
    double *pos = b[10].b.buf, *vel = b[11].b.buf, *tau = b[12].b.buf, *temp = b[13].b.buf, *rx = b[15].b.buf;
    int64_t *err = b[14].b.buf;
    uint8_t *fresh = b[16].b.buf, *running = b[17].b.buf;
    Py_ssize_t replies = 0, errors = 0;
    for (Py_ssize_t r = 0; r < m; r++) {
        const uint8_t *d = data + 8 * r;
        if (bus[r] >= n_buses) continue;
        int64_t j;
        uint32_t k[3];
        double t_c;
        int64_t e;
        if (!ext[r]) {
            if (ids[r] != 0 || dlc[r] == 0) continue; /* not a reply: our own command echoed, other traffic */
            j = mit_joint[bus[r] * 256 + d[0]];
            if (j < 0 || j >= n) continue;
            if (dlc[r] != 6 && dlc[r] != 8) {
                errors++;
                continue;
            }
            k[0] = ((uint32_t)d[1] << 8) | d[2];
            k[1] = ((uint32_t)d[3] << 4) | (d[4] >> 4);
            k[2] = ((uint32_t)(d[4] & 0xF) << 8) | d[5];
            t_c = dlc[r] == 8 ? (double)d[6] + -40.0 : NAN; /* CubeMars: byte 6 + (-40) °C */
            e = dlc[r] == 8 ? d[7] : 0;
            running[j] = 1;
        } else {
            if ((ids[r] >> 24) != 2) continue; /* type 2 feedback only */
            j = rs_joint[bus[r] * 256 + ((ids[r] >> 8) & 0xFF)];
            if (j < 0 || j >= n) continue;
            uint32_t mode = (ids[r] >> 22) & 0x3;
            if (dlc[r] != 8 || mode == 3) {
                errors++;
                continue;
            }
            k[0] = ((uint32_t)d[0] << 8) | d[1];
            k[1] = ((uint32_t)d[2] << 8) | d[3];
            k[2] = ((uint32_t)d[4] << 8) | d[5];
            int16_t raw = (int16_t)(((uint16_t)d[6] << 8) | d[7]);
            t_c = (double)raw / 10.0;
            e = (ids[r] >> 16) & 0x3F;
            running[j] = mode == 2;
        }
        pos[j] = dequantize(k[0], lo[3 * j], hi[3 * j], (int)bits[3 * j]);
        vel[j] = dequantize(k[1], lo[3 * j + 1], hi[3 * j + 1], (int)bits[3 * j + 1]);
        tau[j] = dequantize(k[2], lo[3 * j + 2], hi[3 * j + 2], (int)bits[3 * j + 2]);
        temp[j] = t_c;
        err[j] = e;
        rx[j] = now;
        fresh[j] = 1;
        replies++;
    }
    release(b, 18);
    return Py_BuildValue("nn", replies, errors);
}

/* Worst-case stuffed bits of a classic data frame (Tindell/Davis): g + 8n + 13 + floor((g + 8n - 1) / 4),
 * g = 34 (11-bit id) or 54 (29-bit id); the same formula as physai.drivers.busload.worst_case_frame_bits. */
static inline double frame_bits(int dlc, int extended) {
    int g = extended ? 54 : 34;
    return (double)(g + 8 * dlc + 13 + (g + 8 * dlc - 1) / 4);
}

/* pack(m, ids(m) u32, extended(m) bool, dlc(m) u8, data(m,8) u8, bus(m) u8, bitrates(B) f64,
 *      busy_until(B) f64 in/out, now_s, out(m*22) u8) -> None
 * Datagram records (bus u8, id u32 LE with bit 31 = 29-bit id, dlc u8, data[8], end f64 LE): each frame
 * ends on its bus's wire after max(now, the end of that bus's previous frame) plus its worst-case bits. */
static PyObject *pack(PyObject *self, PyObject *args) {
    Py_ssize_t m;
    double now;
    PyObject *o[8];
    if (!PyArg_ParseTuple(args, "nOOOOOOOdO", &m, &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &now, &o[7]))
        return NULL;
    Buf b[8] = {{0}};
    if (get(o[0], &b[0], 0, m * 4, "ids") || get(o[1], &b[1], 0, m, "extended") || get(o[2], &b[2], 0, m, "dlc") ||
        get(o[3], &b[3], 0, m * 8, "data") || get(o[4], &b[4], 0, m, "bus") || get(o[5], &b[5], 0, 8, "bitrates") ||
        get(o[6], &b[6], 1, 8, "busy_until") || get(o[7], &b[7], 1, m * 22, "out")) {
        release(b, 8);
        return NULL;
    }
    const uint32_t *ids = b[0].b.buf;
    const uint8_t *ext = b[1].b.buf, *dlc = b[2].b.buf, *data = b[3].b.buf, *bus = b[4].b.buf;
    const double *rate = b[5].b.buf;
    double *busy = b[6].b.buf;
    Py_ssize_t n_buses = b[5].b.len / 8;
    uint8_t *out = b[7].b.buf;
    for (Py_ssize_t r = 0; r < m; r++) {
        int k = bus[r] < n_buses ? bus[r] : 0;
        double start = busy[k] > now ? busy[k] : now;
        int n = dlc[r] > 8 ? 8 : dlc[r];
        double end = start + frame_bits(n, ext[r]) / rate[k];
        busy[k] = end;
        uint32_t id = ids[r] | (ext[r] ? 0x80000000u : 0u);
        uint8_t *rec = out + 22 * r;
        rec[0] = bus[r];
        memcpy(rec + 1, &id, 4); /* x86-64 / aarch64: little endian, as the record dtype */
        rec[5] = dlc[r];
        memcpy(rec + 6, data + 8 * r, 8);
        memcpy(rec + 14, &end, 8);
    }
    release(b, 8);
    Py_RETURN_NONE;
}

/* answer(m, ids(m) u32, extended(m) bool, dlc(m) u8, data(m,8) u8, bus(m) u8, n_buses, mit_lut(B,256) i64,
 *        rs_lut(B,256) i64, cmd_lo(5,n) f64, cmd_hi(5,n) f64, robstride(n) bool, position(n), velocity(n),
 *        torque(n) f64 (the plant, motor side, before the zero shift), zero_shift(n) f64, enabled(n) bool,
 *        awaiting(n) bool, host(n) u8, can_id(n) i64, temperature_c, joint_out(m) i64, command_out(5,m) f64,
 *        reply_ids_out(m) u32, reply_out(m,8) u8) -> 1, or 0 when the batch is not only impedance commands
 * The virtual motors' steady state (physai.hil.virtual_motors): decode each MIT / Robstride type-1
 * command as unpack_command / decode_motion_control do, and encode each motor's reply as pack_reply (8-byte
 * CubeMars form, error 0) / encode_feedback (no fault bits) do. Anything else (mode frames, parameters,
 * frames for nobody, a rebooted motor, a non-finite plant value) returns 0 and the caller goes frame by frame. */
static PyObject *answer(PyObject *self, PyObject *args) {
    Py_ssize_t m, n_buses;
    double temp;
    PyObject *o[22];
    if (!PyArg_ParseTuple(args, "nOOOOOnOOOOOOOOOOOOOdOOOO", &m, &o[0], &o[1], &o[2], &o[3], &o[4], &n_buses, &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &o[13], &o[14], &o[15], &o[16], &o[17],
                          &temp, &o[18], &o[19], &o[20], &o[21]))
        return NULL;
    Buf b[22] = {{0}};
    for (int k = 0; k < 22; k++)
        if (get(o[k], &b[k], k >= 18, 0, "answer")) {
            release(b, 22);
            return NULL;
        }
    Py_ssize_t n = b[9].b.len; /* robstride(n) bool */
    const Py_ssize_t need[22] = {m * 4, m, m, m * 8, m, n_buses * 2048, n_buses * 2048, 40 * n, 40 * n, n,
                                 8 * n, 8 * n, 8 * n, 8 * n, n, n, n, 8 * n, m * 8, 40 * m, m * 4, m * 8};
    for (int k = 0; k < 22; k++)
        if (b[k].b.len < need[k]) {
            release(b, 22);
            PyErr_Format(PyExc_ValueError, "answer: argument %d has %zd bytes; expected %zd", k, b[k].b.len, need[k]);
            return NULL;
        }
    const uint32_t *ids = b[0].b.buf;
    const uint8_t *ext = b[1].b.buf, *dlc = b[2].b.buf, *data = b[3].b.buf, *bus = b[4].b.buf;
    const int64_t *mit_lut = b[5].b.buf, *rs_lut = b[6].b.buf, *can_id = b[17].b.buf;
    const double *lo = b[7].b.buf, *hi = b[8].b.buf, *pos = b[10].b.buf, *vel = b[11].b.buf, *tau = b[12].b.buf,
                 *shift = b[13].b.buf;
    const uint8_t *rs = b[9].b.buf, *enabled = b[14].b.buf, *awaiting = b[15].b.buf, *host = b[16].b.buf;
    int64_t *joint = b[18].b.buf;
    double *cmd = b[19].b.buf;
    uint32_t *reply_ids = b[20].b.buf;
    uint8_t *reply = b[21].b.buf;
    int ok = 1;
    for (Py_ssize_t r = 0; r < m && ok; r++) { /* classify first: all or nothing */
        int64_t j = -1;
        const uint8_t *d = data + 8 * r;
        if (bus[r] < n_buses && dlc[r] == 8) {
            if (!ext[r] && ids[r] > 0 && ids[r] < 256) {
                int special = d[7] >= 0xFC;
                for (int k = 0; k < 7 && special; k++) special = d[k] == 0xFF;
                if (!special) j = mit_lut[bus[r] * 256 + ids[r]];
            } else if (ext[r] && (ids[r] >> 24) == 1) {
                j = rs_lut[bus[r] * 256 + (ids[r] & 0xFF)];
            }
        }
        if (j < 0 || j >= n || awaiting[j] || !isfinite(pos[j] + shift[j]) || !isfinite(vel[j]) || !isfinite(tau[j]))
            ok = 0;
        else
            joint[r] = j;
    }
    if (ok) {
        for (Py_ssize_t r = 0; r < m; r++) {
            const uint8_t *d = data + 8 * r;
            int64_t j = joint[r];
            uint32_t k[5];
            static const int mit_bits[5] = {16, 12, 12, 12, 12};
            const int *bits = mit_bits;
            static const int rs_bits[5] = {16, 16, 16, 16, 16};
            if (!rs[j]) {
                k[0] = ((uint32_t)d[0] << 8) | d[1];
                k[1] = ((uint32_t)d[2] << 4) | (d[3] >> 4);
                k[2] = ((uint32_t)(d[3] & 0xF) << 8) | d[4];
                k[3] = ((uint32_t)d[5] << 4) | (d[6] >> 4);
                k[4] = ((uint32_t)(d[6] & 0xF) << 8) | d[7];
            } else {
                bits = rs_bits;
                for (int f = 0; f < 4; f++) k[f] = ((uint32_t)d[2 * f] << 8) | d[2 * f + 1];
                k[4] = (ids[r] >> 8) & 0xFFFF;
            }
            for (int f = 0; f < 5; f++) cmd[f * m + r] = dequantize(k[f], lo[f * n + j], hi[f * n + j], bits[f]);
            /* the reply: position (with the motor's zero shift), velocity, torque */
            double p = pos[j] + shift[j];
            uint8_t *out = reply + 8 * r;
            if (!rs[j]) {
                uint32_t kp_ = quantize(p, lo[j], hi[j], 16), kv = quantize(vel[j], lo[n + j], hi[n + j], 12),
                         kt = quantize(tau[j], lo[4 * n + j], hi[4 * n + j], 12);
                double t = temp < -40.0 ? -40.0 : (temp > 215.0 ? 215.0 : temp);
                out[0] = (uint8_t)can_id[j];
                out[1] = (uint8_t)(kp_ >> 8);
                out[2] = (uint8_t)(kp_ & 0xFF);
                out[3] = (uint8_t)(kv >> 4);
                out[4] = (uint8_t)(((kv & 0xF) << 4) | (kt >> 8));
                out[5] = (uint8_t)(kt & 0xFF);
                out[6] = (uint8_t)nearbyint(t + 40.0); /* round half to even, as Python's round */
                out[7] = 0;
                reply_ids[r] = 0; /* MIT replies go to the host id 0 */
            } else {
                uint32_t kp_ = quantize(p, lo[j], hi[j], 16), kv = quantize(vel[j], lo[n + j], hi[n + j], 16),
                         kt = quantize(tau[j], lo[4 * n + j], hi[4 * n + j], 16);
                double t = temp < -3276.8 ? -3276.8 : (temp > 3276.7 ? 3276.7 : temp);
                double tw = nearbyint(t * 10.0);
                int32_t w = tw < -32768 ? -32768 : (tw > 32767 ? 32767 : (int32_t)tw);
                uint16_t word = (uint16_t)(int16_t)w;
                out[0] = (uint8_t)(kp_ >> 8);
                out[1] = (uint8_t)(kp_ & 0xFF);
                out[2] = (uint8_t)(kv >> 8);
                out[3] = (uint8_t)(kv & 0xFF);
                out[4] = (uint8_t)(kt >> 8);
                out[5] = (uint8_t)(kt & 0xFF);
                out[6] = (uint8_t)(word >> 8);
                out[7] = (uint8_t)(word & 0xFF);
                uint32_t mode = enabled[j] ? 2u : 0u; /* RUN / RESET */
                reply_ids[r] = (2u << 24) | (mode << 22) | ((uint32_t)(can_id[j] & 0xFF) << 8) | host[j];
            }
        }
    }
    release(b, 22);
    return PyLong_FromLong(ok);
}

static PyMethodDef METHODS[] = {
    {"answer", answer, METH_VARARGS, "Virtual motors: decode a batch of impedance commands and encode the replies."},
    {"pack", pack, METH_VARARGS, "Pack a batch of frames into datagram records, stamping each bus's wire time."},
    {"encode", encode, METH_VARARGS, "Encode one impedance command frame per motor (MIT or Robstride type 1)."},
    {"decode", decode, METH_VARARGS, "Decode and store MIT / Robstride feedback frames of a batch."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_cancore", "physai CAN codec core (C).", -1, METHODS};

PyMODINIT_FUNC PyInit__cancore(void) { return PyModule_Create(&MODULE); }
