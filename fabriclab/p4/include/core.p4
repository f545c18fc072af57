/* fabriclab's declaration of the P4-16 core library (P4-16 spec, section "core library").
   Same declarations and signatures as the standard core.p4, so programs written for p4c
   compile unchanged. */
#ifndef _CORE_P4_
#define _CORE_P4_

/// Standard error codes. Programs may add their own with further `error { ... }` declarations.
error {
    NoError,
    PacketTooShort,
    NoMatch,
    StackOutOfBounds,
    HeaderTooShort,
    ParserTimeout,
    ParserInvalidArgument
}

@corelib
extern packet_in {
    /// Read a header from the packet into a fixed-size header and advance the cursor.
    void extract<T>(out T hdr);
    /// Read a variable-size header (varbit field of the given size in bits).
    void extract<T>(out T variableSizeHeader, in bit<32> variableFieldSizeInBits);
    /// Read bits from the packet without advancing the cursor.
    T lookahead<T>();
    /// Skip the given number of bits.
    void advance(in bit<32> sizeInBits);
    /// Packet length in bytes.
    bit<32> length();
}

@corelib
extern packet_out {
    /// Write a header to the output packet if it is valid.
    void emit<T>(in T hdr);
}

/// Check a predicate in a parser; on failure the parser stops with the given error.
@corelib
extern void verify(in bool check, in error toSignal);

/// A compile-time check: the compiler stops with `message` unless `check` is a true
/// constant; its value is true (it may initialize a constant).
extern bool static_assert(bool check, string message);
extern bool static_assert(bool check);

/// The action that does nothing; the default action of most tables.
@noWarn("unused")
action NoAction() {}

/// The match kinds every target understands.
match_kind {
    exact,
    ternary,
    lpm
}

#endif  /* _CORE_P4_ */
