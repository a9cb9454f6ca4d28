/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test guest: a 512-byte MBR, loaded by SeaBIOS from the emulated IDE disk (served to the
 * stubdomain's QEMU by blkfront -> dom0's qdisk). It prints "@@ HVM-BOOTSECTOR-OK" on COM1 (the
 * stubdomain QEMU's serial, hvc3, the xl serial file) and on port 0xe9 (Xen's HVM debug port, so
 * the marker is in `xl dmesg` even when the serial path is broken), then "@@ TICK <n>" on COM1
 * about once a second, forever: it sleeps in sti;hlt and counts the BIOS timer ticks (the PIT's
 * IRQ 0 at 18.2 Hz, counted by SeaBIOS in the BDA at 0:046c), 18 per line. A counter that keeps
 * going after pause/unpause, save/restore shows the device model came back.
 *
 * Each line also shows device state that lives in the device model, not in Xen: " SCR <s>", where
 * <s> is what COM1's scratch register (0x3ff, part of QEMU's 16550 state) held before the guest
 * wrote the low byte of <n> into it. So s == (n - 1) mod 256 on every line, across a save and
 * restore too (the count lives in a vCPU register, saved by Xen; the scratch register by QEMU),
 * unless the device model came back with the device state of another moment: a restore that
 * loads the state of an earlier save. The guest checks it itself and then adds " SCR-MISMATCH"
 * (the check is one read after the count's increment, so wherever a save stops the guest, a
 * consistent restore passes it; a line cut by the save still shows the mismatch). The read and
 * the write of the scratch register come one right after the other, before the line is printed:
 * a save that stopped the guest between them would let its own write hide a restore's stale
 * state, and with the line's printing between them (each character waits on the UART) that gap
 * was wide enough to be hit (a stale restore on Xen 4.20 that showed no mismatch, its first line
 * the one after the line the save had cut).
 *
 * Before the ticks it says "@@ COM<n>-OK" once on COM2, COM3 and COM4 (0x2f8, 0x3e8, 0x2e8): a
 * guest with an xl.cfg serial list has them reach their dom0 files; where a port has no UART, its
 * line status reads 0xff (transmitter empty) and the bytes go nowhere.
 *
 * Built with binutils: as --32; ld -m elf_i386 -Ttext 0x7c00 --oformat binary.
 */
	.code16
	.globl	_start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	cld

	mov	$hello, %si
	mov	$1, %di			/* also on port 0xe9 */
	call	puts
	xor	%di, %di
	mov	$com2, %si		/* COM2, COM3, COM4: their strings follow one another */
	mov	$0x2f8, %ax
	call	puts_at
	mov	$0x3e8, %ax
	call	puts_at
	mov	$0x2e8, %ax
	call	puts_at
	movw	$0x3f8, port
	movl	0x46c, %ebx		/* BIOS tick count at the last line */
	xorl	%ebp, %ebp		/* lines printed */
	sti

wait:	hlt
	movl	0x46c, %eax
	subl	%ebx, %eax
	cmpl	$18, %eax
	jb	wait
	addl	%eax, %ebx
	incl	%ebp

	mov	$0x3ff, %dx		/* COM1 scratch: the last count's low byte, then this one's */
	in	%dx, %al
	mov	%al, %cl
	mov	%bp, %ax
	out	%al, %dx
	movzbl	%cl, %ecx
	push	%cx

	mov	$tick, %si
	xor	%di, %di
	call	puts
	movl	%ebp, %eax
	call	putnum
	mov	$scr, %si
	call	puts
	pop	%ax
	push	%ax
	movzwl	%ax, %eax
	call	putnum
	pop	%ax
	mov	%bp, %cx
	dec	%cl
	cmp	%cl, %al
	je	4f
	mov	$mismatch, %si
	call	puts
4:	mov	$crlf, %si
	call	puts
	jmp	wait

/* putnum: %eax in decimal to COM1, digits built backwards at the end of numbuf */
putnum:	mov	$numend, %si
	movl	$10, %ecx
1:	xorl	%edx, %edx
	divl	%ecx
	add	$'0', %dl
	dec	%si
	mov	%dl, (%si)
	testl	%eax, %eax
	jnz	1b
	jmp	puts

/* puts_at: puts to the UART at %ax, leaving %si past the string */
puts_at:
	mov	%ax, port
/* puts: the NUL-terminated string at %si to the UART at port (COM1), and to port 0xe9 if
 * %di != 0 */
puts:	lodsb
	test	%al, %al
	jz	3f
	mov	%al, %cl
	mov	port, %dx
	add	$5, %dx			/* line status: wait for an empty transmit register */
2:	in	%dx, %al
	test	$0x20, %al
	jz	2b
	mov	%cl, %al
	sub	$5, %dx
	out	%al, %dx
	test	%di, %di
	jz	puts
	out	%al, $0xe9
	jmp	puts
3:	ret

port:	.word	0x3f8
hello:	.asciz	"@@ HVM-BOOTSECTOR-OK\r\n"
com2:	.asciz	"@@ COM2-OK\r\n"
com3:	.asciz	"@@ COM3-OK\r\n"
com4:	.asciz	"@@ COM4-OK\r\n"
tick:	.asciz	"@@ TICK "
scr:	.asciz	" SCR "
mismatch: .asciz " SCR-MISMATCH"
crlf:	.asciz	"\r\n"
numbuf:	.space	10
numend:	.byte	0

	.org	510
	.word	0xaa55
