/* Minimal Cortex-M startup for running resq's generated C harness on QEMU
   with newlib's semihosting (rdimon): vector table, .data copy, .bss
   clear, a painted stack, argv from SYS_GET_CMDLINE, exit status through
   SYS_EXIT. After main returns it prints the deepest stack use and the
   heap newlib took (stdio buffers) to stderr ("stack-bytes N",
   "heap-bytes N"). Linked with -nostartfiles and link.ld. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
extern void initialise_monitor_handles(void);
extern int main(int argc, char **argv);
extern char end;
extern void *_sbrk(int incr);

#define PAINT 0xC5C5C5C5u

void Reset_Handler(void);
void Fault_Handler(void);

__attribute__((section(".isr_vector"), used)) void (*const vectors[16])(void) = {
	(void (*)(void))(&_estack), Reset_Handler, Fault_Handler, Fault_Handler,
	Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0,
	Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,
};

static int semihost(int op, void *arg)
{
	register int r0 __asm__("r0") = op;
	register void *r1 __asm__("r1") = arg;
	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

void Fault_Handler(void)
{
	/* SYS_EXIT_EXTENDED with ADP_Stopped_RunTimeErrorUnknown, status 70 */
	static uint32_t block[2] = {0x20023u, 70u};
	semihost(0x20, block);
	for (;;)
		;
}

static char cmdline[512];
static char *argv[16];

static int parse_args(void)
{
	struct {
		char *buf;
		int len;
	} a = {cmdline, (int)sizeof cmdline - 1};
	int argc = 0;
	char *p = cmdline;
	if (semihost(0x15, &a) != 0)
		return 0;
	cmdline[a.len] = 0;
	while (*p && argc < 15) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	argv[argc] = 0;
	return argc;
}

void Reset_Handler(void)
{
	uint32_t *s, *d, *sp;
	int argc, rc;
	for (s = &_sidata, d = &_sdata; d < &_edata;)
		*d++ = *s++;
	for (d = &_sbss; d < &_ebss;)
		*d++ = 0;
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	for (d = &_sstack; d < sp - 16;)
		*d++ = PAINT;
	initialise_monitor_handles();
	argc = parse_args();
	rc = main(argc, argv);
	for (d = &_sstack; d < &_estack && *d == PAINT;)
		d++;
	fprintf(stderr, "stack-bytes %lu\n", (unsigned long)((uintptr_t)&_estack - (uintptr_t)d));
	fprintf(stderr, "heap-bytes %lu\n", (unsigned long)((uintptr_t)_sbrk(0) - (uintptr_t)&end));
	exit(rc);
}
