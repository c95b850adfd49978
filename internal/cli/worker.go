package cli

import (
	"github.com/spf13/cobra"
)

func newWorkerCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run job workers only (no API), sharing the queue with other hosts",
		Long: "worker claims jobs from the queue in the metadata database. Point several workers on\n" +
			"several hosts at the same --db postgres://… and --blob s3://… to scale out; each job runs\n" +
			"on exactly one of them, and a job whose worker dies is resumed elsewhere when its lease\n" +
			"expires. SIGTERM stops claiming and hands running jobs' leases back.",
		Example: "  whet worker --db postgres://whet@db/whet --blob 's3://whet?endpoint=minio:9000' --workers 4",
		Args:    cobra.NoArgs,
	}
	cf := bindConfigFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load(cmd, env)
		if err != nil {
			return err
		}
		if cfg.Workers < 1 {
			cfg.Workers = 1
		}
		log := newLogger(env, cfg.LogLevel)
		p, err := openPlatform(cmd.Context(), env, cfg, log)
		if err != nil {
			return err
		}
		defer p.close()
		log.Info("worker started", "worker_id", p.jobs.WorkerID(), "concurrency", cfg.Workers)
		err = p.jobs.Work(cmd.Context(), cfg.Workers)
		log.Info("worker stopped")
		return err
	}
	return cmd
}
