package io.mpathnbd.server.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mpathnbd.testing.peers.Images;
import io.mpathnbd.testing.peers.Tools;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both client dialects through libnbd (nbdsh) against a two-path file export: the Linux kernel's (GO without
 * information requests, simple replies, the EXPORT_NAME fallback) and qemu's/libnbd's (structured replies, meta
 * contexts, block status, DF, block sizes); option negotiation step by step; and deliberately bad requests with
 * libnbd's client-side checks off, each answered with the error the spec names while the connection goes on.
 */
class NbdshTest {
    private static final int SIZE = 16 << 20;

    @TempDir
    static Path dir;
    static Path image;
    static FrontendFixture fx;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("nbdsh");
        image = Images.sparse(dir, "disk.img", SIZE);
        fx = new FrontendFixture();
        fx.fileExport("disk", image);
        fx.export(FrontendFixture.describedConfig("described", "A test disk"),
                "file:" + Images.sparse(dir, "described.img", SIZE));
        Path ro = Images.sparse(dir, "ro.img", SIZE);
        fx.export(io.mpathnbd.core.export.ExportConfig.defaults("ro"), "file:" + ro + "?readonly=true",
                "file:" + ro + "?readonly=true");
        fx.start();
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @Test
    void kernelDialectGoWithoutInformationRequestsAndSimpleReplies() {
        Nbdsh.check(fx.uri("disk"), String.join("\n",
                "h.set_request_structured_replies(False)",
                "h.set_request_block_size(False)",
                "h.set_full_info(False)",
                "h.connect_uri(uri)",
                "assert h.get_protocol() == 'newstyle-fixed', h.get_protocol()",
                "assert not h.get_structured_replies_negotiated()",
                "assert h.get_size() == " + SIZE,
                "data = bytes(range(256)) * 16",
                "h.pwrite(data, 8192, nbd.CMD_FLAG_FUA if h.can_fua() else 0)",
                "assert h.pread(4096, 8192) == data",
                "if h.can_flush(): h.flush()",
                "if h.can_trim(): h.trim(4096, 1 << 20)",
                "if h.can_zero():",
                "    h.zero(4096, 8192)",
                "    assert h.pread(4096, 8192) == bytes(4096)",
                "h.shutdown()"));
    }

    @Test
    void exportNameFallbackWithAndWithoutZeroes() {
        for (int flags : new int[] {0, 2}) {
            byte[] pattern = Images.pattern(flags, 4096);
            Nbdsh.check(fx.uri("disk"), String.join("\n",
                    "h.set_handshake_flags(" + flags + ")",
                    "h.connect_uri(uri)",
                    "assert h.get_protocol() == 'newstyle', h.get_protocol()",
                    "assert not h.get_structured_replies_negotiated()",
                    "assert h.get_size() == " + SIZE,
                    "data = bytes.fromhex('" + hex(pattern) + "')",
                    "h.pwrite(data, " + (2 << 20) + ")",
                    "assert h.pread(4096, " + (2 << 20) + ") == data",
                    "h.shutdown()"));
            assertEquals(hex(pattern), hex(Images.read(image, 2 << 20, 4096)), "flags " + flags);
        }
    }

    @Test
    void libnbdDialectStructuredRepliesBlockStatusAndDf() {
        Nbdsh.check(fx.uri("disk"), String.join("\n",
                "h.add_meta_context('base:allocation')",
                "h.connect_uri(uri)",
                "assert h.get_structured_replies_negotiated()",
                "assert h.can_meta_context('base:allocation')",
                "assert h.get_block_size(nbd.SIZE_MAXIMUM) >= 1 << 20",
                "assert h.get_block_size(nbd.SIZE_PREFERRED) >= 512",
                "h.pwrite(b'\\x55' * 65536, 4 << 20)",
                "entries = []",
                "def status(metacontext, offset, e, err):",
                "    assert metacontext == 'base:allocation'",
                "    entries.extend(e)",
                "    return 0",
                "h.block_status(1 << 20, 4 << 20, status)",
                "lengths = entries[0::2]",
                "assert len(lengths) >= 1 and all(n > 0 for n in lengths), entries",
                "assert sum(lengths[:-1]) < 1 << 20, entries",
                "entries.clear()",
                "h.block_status(1 << 20, 4 << 20, status, nbd.CMD_FLAG_REQ_ONE)",
                "assert len(entries) == 2 and 0 < entries[0] <= 1 << 20, entries",
                "chunks = []",
                "def chunk(buf, offset, st, err):",
                "    chunks.append((offset, len(buf), st))",
                "    return 0",
                "flags = nbd.CMD_FLAG_DF if h.can_df() else 0",
                "buf = h.pread_structured(65536, 4 << 20, chunk, flags)",
                "assert buf == b'\\x55' * 65536",
                "assert chunks == [(4 << 20, 65536, nbd.READ_DATA)], chunks",
                "if h.can_cache(): h.cache(65536, 4 << 20)",
                "if h.can_zero():",
                "    h.zero(65536, 4 << 20, nbd.CMD_FLAG_NO_HOLE)",
                "    assert h.pread(65536, 4 << 20) == bytes(65536)",
                "if h.can_fast_zero():",
                "    try:",
                "        h.zero(65536, 4 << 20, nbd.CMD_FLAG_FAST_ZERO)",
                "    except nbd.Error as e:",
                "        assert e.errnum == errno.ENOTSUP, e",
                "if h.can_flush(): h.flush()",
                "h.shutdown()"));
    }

    @Test
    void optionNegotiationStepByStep() {
        Nbdsh.check(fx.uri("disk"), String.join("\n",
                "h.set_opt_mode(True)",
                "h.connect_uri(uri)",
                "names = []",
                "h.opt_list(lambda name, desc: names.append((name, desc)) or 0)",
                "assert 'disk' in [n for n, d in names] and ('described', 'A test disk') in names, names",
                "h.set_export_name('nosuch')",
                "try:",
                "    h.opt_info()",
                "    raise AssertionError('INFO for an unknown export succeeded')",
                "except nbd.Error:",
                "    pass",
                "h.set_export_name('described')",
                "h.set_full_info(True)",
                "h.opt_info()",
                "assert h.get_size() == " + SIZE,
                "assert h.get_export_description() == 'A test disk'",
                "assert h.get_canonical_export_name() == 'described'",
                "contexts = []",
                "h.opt_list_meta_context(lambda name: contexts.append(name) or 0)",
                "assert contexts == ['base:allocation'], contexts",
                "h.set_export_name('disk')",
                "h.opt_go()",
                "assert h.aio_is_ready()",
                "h.pread(512, 0)",
                "h.shutdown()"));
    }

    @Test
    void badRequestsGetTheSpecErrorsAndTheConnectionGoesOn() {
        Nbdsh.check(fx.uri("disk"), String.join("\n",
                "h.set_strict_mode(0)",
                "h.connect_uri(uri)",
                "size = h.get_size()",
                "expect_errno(errno.EINVAL, h.pread, 512, size)",
                "expect_errno(errno.EINVAL, h.pread, 1024, size - 512)",
                "expect_errno(errno.ENOSPC, h.pwrite, b'x' * 512, size)",
                "expect_errno(errno.ENOSPC, h.pwrite, b'x' * 1024, size - 512)",
                "expect_errno(errno.EINVAL, h.pread, 512, 0, 1 << 6)",
                "expect_errno(errno.EINVAL, h.pread, 512, 0, nbd.CMD_FLAG_REQ_ONE)",
                "expect_errno(errno.EINVAL, h.pwrite, b'x' * 512, 0, nbd.CMD_FLAG_NO_HOLE)",
                "if h.can_trim(): expect_errno(errno.EINVAL, h.trim, 512, size)",
                "if h.can_zero(): expect_errno(errno.ENOSPC, h.zero, 512, size)",
                "if not h.can_cache(): expect_errno(errno.EINVAL, h.cache, 512, 0)",
                "expect_errno(errno.EINVAL, h.block_status, 512, 0, lambda *a: 0)",
                "assert h.pread(512, 0) == bytes(512)",
                "h.shutdown()"));
    }

    @Test
    void badRequestsWithSimpleReplies() {
        Nbdsh.check(fx.uri("disk"), String.join("\n",
                "h.set_strict_mode(0)",
                "h.set_request_structured_replies(False)",
                "h.connect_uri(uri)",
                "size = h.get_size()",
                "expect_errno(errno.EINVAL, h.pread, 512, size)",
                "expect_errno(errno.ENOSPC, h.pwrite, b'x' * 512, size)",
                "expect_errno(errno.EINVAL, h.pread, 512, 0, 1 << 6)",
                "expect_errno(errno.EINVAL, h.pread, 512, 0, nbd.CMD_FLAG_DF)",
                "assert h.pread(4096, 0) == bytes(4096)",
                "h.shutdown()"));
    }

    @Test
    void writesToAReadOnlyExportAreNotPermitted() {
        Nbdsh.check(fx.uri("ro"), String.join("\n",
                "h.set_strict_mode(0)",
                "h.connect_uri(uri)",
                "assert h.is_read_only()",
                "expect_errno(errno.EPERM, h.pwrite, b'x' * 512, 0)",
                "if h.can_zero(): expect_errno(errno.EPERM, h.zero, 512, 0)",
                "if h.can_trim(): expect_errno(errno.EPERM, h.trim, 512, 0)",
                "expect_errno(errno.ENOSPC, h.pwrite, b'x' * 512, h.get_size())",
                "assert h.pread(512, 0) == bytes(512)",
                "h.shutdown()"));
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }
}
