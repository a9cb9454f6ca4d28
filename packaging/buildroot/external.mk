include $(sort $(wildcard $(BR2_EXTERNAL_STUBINIT_PATH)/package/*/*.mk))
