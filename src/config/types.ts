import type { ServiceName } from "./keys";

export type Architecture = "x86" | "arm";
export type Target = "hetzner" | "local";

export interface ServiceOverrides {
  memoryMb?: number;
  reservationMb?: number;
  swapMb?: number;
}

/** Parsed, validated stack configuration: plain values, no Pulumi types. */
export interface StackConfig {
  stack: string;
  stage: 1 | 2 | 3;
  target: Target;
  location: string;
  server: {
    type?: string;
    cores?: number;
    memoryGb?: number;
    diskGb?: number;
    architecture: Architecture;
    keepDisk: boolean;
    backups: boolean;
    protect: boolean;
  };
  swapGb?: number;
  swappiness: number;
  systemReserveMb: number;
  workers?: number;
  users: number;
  perUserMb: number;
  images: Record<"api" | "bot" | "worker" | "redis", string>;
  imageDigests: "registry" | "off";
  services: {
    redis: ServiceOverrides & { maxmemoryMb?: number; maxmemoryPolicy: string; appendonly: boolean };
    api: ServiceOverrides & {
      workers: number;
      limitConcurrency: number;
      port: number;
      public: boolean;
      healthPath: string;
    };
    bot: ServiceOverrides;
    worker: ServiceOverrides & { queue: string; maxJobs: number };
  };
  adminCidrs: string[];
  adminSshKeys: string[];
  registry?: { server: string; username: string };
  alerts: {
    memoryPercent: number;
    swapPercent: number;
    cpuPercent: number;
    queueLength: number;
    apiLatencyMs: number;
    redisMemoryPercent: number;
    forMinutes: number;
    repeatMinutes: number;
    intervalS: number;
    telegramChatId?: string;
  };
  /** Which secret keys are set (their values are read by index.ts as Pulumi secrets only). */
  secrets: {
    botToken: boolean;
    falKey: boolean;
    env: boolean;
    registryPassword: boolean;
    alertWebhookUrl: boolean;
    deployPrivateKey: boolean;
  };
}

export type { ServiceName };
