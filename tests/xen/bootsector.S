/*
 * The test guest: a 512-byte MBR, loaded by SeaBIOS from the emulated IDE disk (served to the
 * stubdomain's QEMU by blkfront -> dom0's qdisk). It prints "@@ HVM-BOOTSECTOR-OK" on COM1 (the
 * stubdomain QEMU's serial, hvc3, the xl serial file) and on port 0xe9 (Xen's HVM debug port, so
 * the marker is in `xl dmesg` even when the serial path is broken), then "@@ TICK <n>" on COM1
 * about once a second, forever: it sleeps in sti;hlt and counts the BIOS timer ticks (the PIT's
 * IRQ 0 at 18.2 Hz, counted by SeaBIOS in the BDA at 0:046c), 18 per line. A counter that keeps
 * going after pause/unpause, save/restore shows the device model came back.
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

	mov	$tick, %si
	xor	%di, %di
	call	puts
	/* %ebp in decimal, digits built backwards at the end of numbuf */
	movl	%ebp, %eax
	mov	$numend, %si
	movl	$10, %ecx
1:	xorl	%edx, %edx
	divl	%ecx
	add	$'0', %dl
	dec	%si
	mov	%dl, (%si)
	testl	%eax, %eax
	jnz	1b
	call	puts
	mov	$crlf, %si
	call	puts
	jmp	wait

/* puts: the NUL-terminated string at %si to COM1, and to port 0xe9 if %di != 0 */
puts:	lodsb
	test	%al, %al
	jz	3f
	mov	%al, %cl
	mov	$0x3fd, %dx		/* COM1 line status: wait for an empty transmit register */
2:	in	%dx, %al
	test	$0x20, %al
	jz	2b
	mov	%cl, %al
	mov	$0x3f8, %dx
	out	%al, %dx
	test	%di, %di
	jz	puts
	out	%al, $0xe9
	jmp	puts
3:	ret

hello:	.asciz	"@@ HVM-BOOTSECTOR-OK\r\n"
tick:	.asciz	"@@ TICK "
crlf:	.asciz	"\r\n"
numbuf:	.space	10
numend:	.byte	0

	.org	510
	.word	0xaa55
